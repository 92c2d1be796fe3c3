"""Requests per second and latency of the generated backend next to a hand-written app, under wrk.

`pants run src/python/backend/bench:bench_api -- [--rounds 3] [--duration 10] [--connections 64]`

The generated backend runs as in production (`python -m backend.main`, after `backend.prestart`
migrated its database); the baseline (handwritten_app.py, the same work written by hand) under the
same uvicorn settings. Each is its own process, on a scratch database of its own on one PostgreSQL
server (DATABASE_URL's, else 127.0.0.1:5432, else embedded) and one Redis (REDIS_URL, else
embedded). Load comes from wrk (Debian's package, installed with apt-get when missing and run as
root), outside both: `wrk -t2 -c<connections>`. Before measuring, both apps get the same requests
and must give the same answers. Rounds alternate which app goes first; the figures are the medians
over rounds, and the ratio is generated/handwritten.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from backend.scratch_database import reachable_server_url, scratch_database
from servicekit.embedded import embedded_postgres, embedded_redis, free_port

APPS = ("generated", "handwritten")
SEEDED_USERS = 1000
# GET a random seeded user; POST a telegram_id no other request uses (a random base per thread).
GET_SCRIPT = f"""
request = function()
  return wrk.format("GET", "/users/" .. math.random(1, {SEEDED_USERS}))
end
"""
POST_SCRIPT = """
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
  return wrk.format("POST", "/users", {["Content-Type"] = "application/json"}, body)
end
"""
ENDPOINTS = {"GET /users/{id}": GET_SCRIPT, "POST /users": POST_SCRIPT}


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package first if it is missing."""
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            sys.exit("bench_api: wrk is missing; install it (Debian: apt-get install -y wrk)")
        print("bench_api: installing wrk (apt-get install -y wrk)", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    return shutil.which("wrk") or sys.exit("bench_api: wrk did not install")


def child_environment(**variables: str) -> dict[str, str]:
    # The children find the modules where this process does, whether run from a pex or a venv.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **variables}


@contextmanager
def served(kind: str, database_url: str, redis_url: str) -> Iterator[str]:
    """The app `kind` in a process of its own; yields its base URL."""
    port = free_port()
    environment = child_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        BACKEND_EMBEDDED="false",
        BACKEND_HOST="127.0.0.1",
        BACKEND_PORT=str(port),
    )
    if kind == "generated":
        subprocess.run([sys.executable, "-m", "backend.prestart"], env=environment, check=True)
        command = [sys.executable, "-m", "backend.main"]
    else:
        command = [sys.executable, "-m", "backend.bench.serve", str(port)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/users/1", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {kind} app did not start") from None
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(10)


def seed(base_url: str) -> None:
    """SEEDED_USERS users, ids 1..SEEDED_USERS in a fresh database."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for telegram_id in range(1, SEEDED_USERS + 1):
            response = client.post("/users", json={"telegram_id": telegram_id})
            response.raise_for_status()


def check_same_answers(urls: dict[str, str]) -> None:
    """The same requests to both apps: the same statuses and bodies (but for timestamps)."""
    telegram_id = random.randrange(10**15, 2 * 10**15)
    requests = [
        ("POST", "/users", {"telegram_id": telegram_id}),
        ("POST", "/users", {"telegram_id": telegram_id}),  # taken: 409
        ("POST", "/users", {"telegram_id": telegram_id + 1, "is_admin": True}),
        ("GET", "/users/1", None),
        ("GET", f"/users/{SEEDED_USERS + 10**6}", None),  # none: 404
    ]
    answers = {}
    for app, url in urls.items():
        with httpx.Client(base_url=url, timeout=30) as client:
            answers[app] = [
                _comparable(client.request(method, path, json=body))
                for method, path, body in requests
            ]
    if answers["generated"] != answers["handwritten"]:
        sys.exit(f"bench_api: the apps answer differently: {answers}")


def _comparable(response: httpx.Response) -> tuple[int, object]:
    body = response.json()
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if not key.endswith("_at")}
    return response.status_code, body


def measure(wrk: str, url: str, script: str, seconds: float, connections: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [wrk, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", lua.name]
        output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return Run(
        rps=float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_milliseconds(_find(r"\s50%\s+(\S+)", output)),
        p99_ms=_milliseconds(_find(r"\s99%\s+(\S+)", output)),
        errors=int(_find(r"Non-2xx or 3xx responses:\s+(\d+)", output, "0"))
        + sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)),
    )


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise RuntimeError(f"no {pattern!r} in wrk's output:\n{text}")
        return default
    return match.group(1)


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def print_table(runs: dict[tuple[str, str], list[Run]]) -> None:
    print(
        f"\n{'endpoint':<17}{'app':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  rounds' req/s"
    )
    for endpoint in ENDPOINTS:
        for app in APPS:
            done = runs[(endpoint, app)]
            print(
                f"{endpoint:<17}{app:<13}{statistics.median(r.rps for r in done):>9.0f}"
                f"{statistics.median(r.p50_ms for r in done):>9.1f}"
                f"{statistics.median(r.p99_ms for r in done):>9.1f}{sum(r.errors for r in done):>8}"
                f"  {' '.join(f'{r.rps:.0f}' for r in done)}"
            )
        ratios = [
            generated.rps / handwritten.rps
            for generated, handwritten in zip(
                runs[(endpoint, "generated")], runs[(endpoint, "handwritten")]
            )
        ]
        print(
            f"{'':<17}generated/handwritten: {statistics.median(ratios):.2f}x"
            f" (rounds: {' '.join(f'{ratio:.2f}' for ratio in ratios)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the order")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=64, help="wrk's connections")
    options = parser.parse_args()
    wrk = ensure_wrk()

    with ExitStack() as stack:
        server_url = reachable_server_url() or stack.enter_context(embedded_postgres())
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis())
        urls = {}
        for app in APPS:
            database_url = stack.enter_context(scratch_database(server_url, prefix=f"bench_{app}"))
            urls[app] = stack.enter_context(served(app, database_url, redis_url))
            seed(urls[app])
        check_same_answers(urls)
        print(
            f"bench_api: both apps answer alike; {options.rounds} rounds of wrk -t2"
            f" -c{options.connections} -d{options.duration:g}s per endpoint and app",
            flush=True,
        )
        runs: dict[tuple[str, str], list[Run]] = {}
        for round_number in range(options.rounds):
            order = APPS if round_number % 2 == 0 else APPS[::-1]
            for endpoint, script in ENDPOINTS.items():
                for app in order:
                    measure(wrk, urls[app], script, options.warmup, options.connections)
                    run = measure(wrk, urls[app], script, options.duration, options.connections)
                    runs.setdefault((endpoint, app), []).append(run)
                    print(
                        f"  round {round_number + 1} {endpoint} {app}: {run.rps:.0f} req/s",
                        flush=True,
                    )
    print_table(runs)


if __name__ == "__main__":
    main()
