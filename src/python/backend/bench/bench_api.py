"""Requests per second and latency of the generated backend next to a hand-written app.

`pants run src/python/backend/bench:bench_api -- [--duration 20] [--concurrency 64]`

Each app runs under uvicorn in its own process on its own scratch database (on DATABASE_URL's
server, else 127.0.0.1:5432, else an embedded PostgreSQL) and Redis (REDIS_URL, else embedded).
The load comes from this process, one app at a time, with `concurrency` httpx connections.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from backend.scratch_database import reachable_server_url, scratch_database
from servicekit.embedded import embedded_postgres, embedded_redis

APPS = ("generated", "handwritten")
SEEDED_USERS = 1000


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(kind: str, database_url: str, redis_url: str) -> Iterator[str]:
    """The app `kind` under uvicorn in a child process; yields its base URL."""
    port = free_port()
    # The child finds the modules where this process does, whether run from a pex or a venv.
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DATABASE_URL": database_url,
    }
    environment["REDIS_URL"] = redis_url
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.bench.serve", kind, str(port)], env=environment
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/users/0", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {kind} app did not start") from None
                time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        server.wait(10)


async def load(
    client: httpx.AsyncClient,
    request: Callable[[], Awaitable[httpx.Response]],
    seconds: float,
    concurrency: int,
) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                failed = (await request()).is_error
            except (
                httpx.TransportError
            ):  # counted, as a load tester would, rather than ending the run
                failed = True
            latencies.append(time.perf_counter() - started)
            errors += failed

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(len(latencies), errors, time.perf_counter() - started, latencies)


async def bench_app(
    base_url: str, seconds: float, concurrency: int, warmup: float
) -> dict[str, Result]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        telegram_ids = itertools.count(random.randrange(10**12))
        seeded: list[int] = []
        for _ in range(0, SEEDED_USERS, concurrency):
            batch = [
                client.post("/users", json={"telegram_id": next(telegram_ids)})
                for _ in range(concurrency)
            ]
            seeded.extend(response.json()["id"] for response in await asyncio.gather(*batch))

        def get_user() -> Awaitable[httpx.Response]:
            return client.get(f"/users/{random.choice(seeded)}")

        def create_user() -> Awaitable[httpx.Response]:
            return client.post("/users", json={"telegram_id": next(telegram_ids)})

        results = {}
        for name, request in (("GET /users/{id}", get_user), ("POST /users", create_user)):
            await load(client, request, warmup, concurrency)
            results[name] = await load(client, request, seconds, concurrency)
        return results


def print_table(results: dict[str, dict[str, Result]]) -> None:
    print(
        f"\n{'endpoint':<17}{'app':<13}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    )
    for endpoint in results[APPS[0]]:
        for app in APPS:
            r = results[app][endpoint]
            print(
                f"{endpoint:<17}{app:<13}{r.requests:>10}{r.errors:>8}{r.rps:>10.0f}"
                f"{r.percentile(50):>9.1f}{r.percentile(99):>9.1f}"
            )
        ratio = results["generated"][endpoint].rps / results["handwritten"][endpoint].rps
        print(f"{'':<17}{'generated/handwritten req/s ratio':<40}{ratio:>.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds of load per endpoint and app"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of unmeasured load first"
    )
    options = parser.parse_args()

    with ExitStack() as stack:
        server_url = reachable_server_url() or stack.enter_context(embedded_postgres())
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis())
        results = {}
        for app in APPS:
            database_url = stack.enter_context(scratch_database(server_url, prefix=f"bench_{app}"))
            with served(app, database_url, redis_url) as base_url:
                print(
                    f"{app}: {options.concurrency} connections, {options.duration:g} s per endpoint",
                    flush=True,
                )
                results[app] = asyncio.run(
                    bench_app(base_url, options.duration, options.concurrency, options.warmup)
                )
    print_table(results)


if __name__ == "__main__":
    main()
