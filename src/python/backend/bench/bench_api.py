"""Requests per second and latency of the generated backend next to a hand-written app, under wrk.

`pants run src/python/backend/bench:bench_api -- [--rounds 3] [--duration 10] [--connections 64]
[--observability] [--token-algorithm EdDSA|HS256]`

The generated backend runs as in production (`python -m backend.main`, after `backend.prestart`
migrated its database); the baseline (handwritten_app.py, the same work written by hand) is
configured and served the same way. Each is its own process, on a scratch database of its own on
one PostgreSQL server (DATABASE_URL's, else 127.0.0.1:5432, else embedded) and streams of its own
on one Redis (REDIS_URL, else embedded). Load comes from wrk (Debian's package, installed with
apt-get when missing and run as root), outside both: `wrk -t2 -c<connections>`.

Before measuring, both apps get the same requests and must give the same answers and publish the
same events (the checks include tokens missing, bad and without the role). Load is sent with a
service token, as tg_bot sends it, signed with --token-algorithm's kind of key (EdDSA, as in
production, or HS256); the same token on every request, so the apps' verified-token cache answers
all but the first check. After each measurement the app's relay must empty its outbox before the next one
starts (the time it took is shown as "drain"), and at the end every user created must have its
event on the stream. Rounds alternate which app goes first; the figures are the medians over
rounds, the ratio is generated/handwritten, and each line shows the 1-minute load average.

`--observability` measures what observing costs instead: each app with observability off (LOG_LEVEL
WARNING, no metrics), with metrics and JSON access lines on (METRICS_PORT, LOG_LEVEL INFO), and with
tracing too (every request sampled, exported to a live OTLP receiver in this process). The
hand-written app is instrumented as an engineer would by hand, with the same libraries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import redis

from backend.bench.same_work import (
    App,
    Tokens,
    bearer,
    check_every_user_relayed,
    check_same_answers,
    wait_for_relay,
)
from backend.bench.wrk import Run, ensure_wrk, run_wrk
from servicekit.scratch_database import reachable_server_url, scratch_database
from servicekit.auth.keys import EDDSA, HS256, VerificationKeys, generate_signing_key
from servicekit.embedded import embedded_postgres, embedded_redis
from servicekit.otlp_receiver import otlp_receiver
from servicekit.waiting import free_port


@dataclass(frozen=True)
class Variant:
    """An app (generated or handwritten) served with `settings` added to its environment."""

    app: str
    settings: tuple[tuple[str, str], ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return f"{self.app}{', ' + self.label if self.label else ''}"


APPS = ("generated", "handwritten")
OFF = (("LOG_LEVEL", "WARNING"),)
METRICS_AND_LOGS = (
    ("LOG_LEVEL", "INFO"),
    ("LOG_FORMAT", "json"),
    ("METRICS_PORT", "{metrics_port}"),
)
TRACED = (*METRICS_AND_LOGS, ("OTEL_EXPORTER_OTLP_ENDPOINT", "{otlp_endpoint}"))
COMPARISONS = [Variant("generated"), Variant("handwritten")]
OBSERVABILITY = [
    Variant(app, settings, label)
    for app in APPS
    for settings, label in ((OFF, "off"), (METRICS_AND_LOGS, "metrics+logs"), (TRACED, "traced"))
]
# (numerator, denominator, what the ratio says) of the --observability table.
OBSERVABILITY_RATIOS = [
    *(
        (f"{app}, {on}", f"{app}, {off}", f"{app}: {on} / {off}")
        for app in APPS
        for on, off in (("metrics+logs", "off"), ("traced", "off"), ("traced", "metrics+logs"))
    ),
    *(
        (f"generated, {label}", f"handwritten, {label}", f"generated / handwritten, {label}")
        for label in ("off", "metrics+logs", "traced")
    ),
]
SEEDED_USERS = 1000
# GET a random seeded user; POST a telegram_id no other request uses (a random base per thread).
# Both send the bearer token the script is given (`{token}`).
GET_SCRIPT = f"""
wrk.headers["Authorization"] = "Bearer {{token}}"
request = function()
  return wrk.format("GET", "/users/" .. math.random(1, {SEEDED_USERS}))
end
"""
POST_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local base = 0
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  -- Below 2^53: Lua numbers are doubles, exact up to there.
  base = math.random(1, 2^20) * 1000000000
end
request = function()
  counter = counter + 1
  local body = '{"telegram_id": ' .. string.format("%d", base + counter) .. '}'
  return wrk.format("POST", "/users", nil, body)
end
"""
ENDPOINTS = {"GET /users/{id}": GET_SCRIPT, "POST /users": POST_SCRIPT}


def child_environment(**variables: str) -> dict[str, str]:
    # The children find the modules where this process does, whether run from a pex or a venv.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **variables}


@contextmanager
def served(
    variant: Variant,
    database_url: str,
    redis_url: str,
    stream_prefix: str,
    auth_jwks: str,
    otlp_endpoint: str,
) -> Iterator[App]:
    """The variant in a process of its own, on a database migrated by backend.prestart."""
    port = free_port()
    settings = {
        variable: value.format(metrics_port=free_port(), otlp_endpoint=otlp_endpoint)
        for variable, value in variant.settings
    }
    environment = child_environment(
        **settings,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EVENTS_STREAM_PREFIX=stream_prefix,
        AUTH_JWKS=auth_jwks,
        BACKEND_EMBEDDED="false",
        BACKEND_HOST="127.0.0.1",
        BACKEND_PORT=str(port),
    )
    subprocess.run([sys.executable, "-m", "backend.prestart"], env=environment, check=True)
    module = "backend.main" if variant.app == "generated" else "backend.bench.serve"
    # Their log lines are formatted and written, as in production, to where nothing reads them
    # in this process's stead: a reader here would take CPU from the apps, more for longer lines.
    server = subprocess.Popen(
        [sys.executable, "-m", module],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/users/1", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {variant.name} app did not start") from None
                time.sleep(0.2)
        yield App(variant.name, base_url, database_url, stream_prefix, server.pid)
    finally:
        server.terminate()
        server.wait(10)


def seed(app: App, token: str) -> None:
    """SEEDED_USERS users, ids 1..SEEDED_USERS in a fresh database."""
    with httpx.Client(base_url=app.url, timeout=30, headers=bearer(token)) as client:
        for telegram_id in range(1, SEEDED_USERS + 1):
            response = client.post("/users", json={"telegram_id": telegram_id})
            response.raise_for_status()


@contextmanager
def deleted_afterwards(redis_url: str, apps: list[App]) -> Iterator[None]:
    try:
        yield
    finally:
        with redis.Redis.from_url(redis_url) as client:
            client.delete(*(app.stream for app in apps))


@dataclass
class Measured:
    run: Run
    drain_s: float  # until the relay had published the run's events
    cpu_ms: float  # the app's CPU time per request, its relay's included
    load: float  # the machine's 1-minute load average after the run


def measure(wrk: str, app: App, script: str, options: argparse.Namespace) -> Measured:
    """A warm-up, then the measured run, until the app's relay has caught up."""
    run_wrk(wrk, app.url, script, options.warmup, options.connections)
    wait_for_relay(app)
    cpu = app.cpu_seconds()
    run = run_wrk(wrk, app.url, script, options.duration, options.connections)
    drain = wait_for_relay(app)
    cpu_ms = (app.cpu_seconds() - cpu) * 1000 / max(run.requests, 1)
    return Measured(run, drain, cpu_ms, os.getloadavg()[0])


def print_table(
    results: dict[tuple[str, str], list[Measured]],
    variants: list[Variant],
    ratios: list[tuple[str, str, str]],
) -> None:
    width = max(len(variant.name) for variant in variants) + 2
    print(
        f"\n{'endpoint':<17}{'app':<{width}}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'CPU ms/req':>11}{'errors':>7}  rounds' req/s"
    )
    for endpoint in ENDPOINTS:
        for variant in variants:
            done = results[(endpoint, variant.name)]
            print(
                f"{endpoint:<17}{variant.name:<{width}}{_median(done, lambda m: m.run.rps):>8.0f}"
                f"{_median(done, lambda m: m.run.p50_ms):>8.1f}"
                f"{_median(done, lambda m: m.run.p99_ms):>8.1f}"
                f"{_median(done, lambda m: m.cpu_ms):>11.2f}"
                f"{sum(m.run.errors for m in done):>7}"
                f"  {' '.join(f'{m.run.rps:.0f}' for m in done)}"
            )
        for numerator, denominator, what in ratios:
            pairs = list(zip(results[(endpoint, numerator)], results[(endpoint, denominator)]))
            rps = [top.run.rps / bottom.run.rps for top, bottom in pairs]
            cpu = [top.cpu_ms / bottom.cpu_ms for top, bottom in pairs]
            p99 = [top.run.p99_ms / bottom.run.p99_ms for top, bottom in pairs]
            print(
                f"{'':<17}{what}: req/s {statistics.median(rps):.2f}x"
                f" (rounds: {' '.join(f'{ratio:.2f}' for ratio in rps)});"
                f" CPU per request {statistics.median(cpu):.2f}x;"
                f" p99 {statistics.median(p99):.2f}x"
            )
    loads = [m.load for done in results.values() for m in done]
    print(
        f"load average (1 min) after the runs: median {statistics.median(loads):.1f},"
        f" {min(loads):.1f}-{max(loads):.1f}, on {os.cpu_count()} cores"
    )


def _median(done: list[Measured], figure: Callable[[Measured], float]) -> float:
    return statistics.median(figure(measured) for measured in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the order")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=64, help="wrk's connections")
    parser.add_argument(
        "--token-algorithm",
        choices=[EDDSA, HS256],
        default=EDDSA,
        help="the key the apps verify tokens with (HS256: a shared secret, development only)",
    )
    parser.add_argument(
        "--observability", action="store_true", help="what logs, metrics and traces cost"
    )
    options = parser.parse_args()
    wrk = ensure_wrk()
    variants = OBSERVABILITY if options.observability else COMPARISONS
    ratios = (
        OBSERVABILITY_RATIOS
        if options.observability
        else [("generated", "handwritten", "generated/handwritten")]
    )

    with ExitStack() as stack:
        # Spans go to a live receiver, which decodes every export as a collector would.
        receiver = stack.enter_context(otlp_receiver())
        server_url = reachable_server_url() or stack.enter_context(embedded_postgres())
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis())
        run_id = uuid.uuid4().hex[:12]
        signing_key = generate_signing_key("bench", options.token_algorithm)
        tokens = Tokens(signing_key)
        auth_jwks = VerificationKeys.of(signing_key.verification_key()).to_json()
        apps = {}
        for number, variant in enumerate(variants):
            database_url = stack.enter_context(
                scratch_database(server_url, prefix=f"bench_{variant.app}")
            )
            stream_prefix = f"bench.{run_id}.{number}."
            apps[variant.name] = stack.enter_context(
                served(
                    variant, database_url, redis_url, stream_prefix, auth_jwks, receiver.endpoint
                )
            )
        stack.enter_context(deleted_afterwards(redis_url, list(apps.values())))
        for app in apps.values():
            seed(app, tokens.admin)
        check_same_answers(list(apps.values()), tokens, SEEDED_USERS, redis_url)
        print(
            f"bench_api: the apps answer and publish alike; {options.rounds} rounds of wrk -t2"
            f" -c{options.connections} -d{options.duration:g}s per endpoint and app",
            flush=True,
        )
        results: dict[tuple[str, str], list[Measured]] = {}
        for round_number in range(options.rounds):
            order = variants if round_number % 2 == 0 else variants[::-1]
            for endpoint, template in ENDPOINTS.items():
                # The caller the backend serves most: tg_bot, with a service token.
                script = template.replace("{token}", tokens.service)
                for variant in order:
                    name = variant.name
                    measured = measure(wrk, apps[name], script, options)
                    results.setdefault((endpoint, name), []).append(measured)
                    run = measured.run
                    print(
                        f"  round {round_number + 1} {endpoint} {name}: {run.rps:.0f} req/s,"
                        f" p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms,"
                        f" CPU {measured.cpu_ms:.2f} ms/req, errors {run.errors},"
                        f" drain {measured.drain_s:.1f} s, load {measured.load:.1f}",
                        flush=True,
                    )
        for app in apps.values():
            check_every_user_relayed(app, redis_url)
    if options.observability:
        print(f"spans received by the OTLP receiver: {len(receiver.spans())}")
    print_table(results, variants, ratios)


if __name__ == "__main__":
    main()
