"""EventBus against the local Redis: lazy connection, delivery, deduplication, dead letters."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from servicekit.events import DeliveryPolicy, EventBus, EventChannel, PermanentFailure, RetryAfter
from servicekit.events.channel import Retention
from servicekit.events.dead_letters import dead_letters, replay
from servicekit.events.envelope import decode_entry
from servicekit.waiting import wait_until_async

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
FAST_RETRIES = DeliveryPolicy(max_failures=3, retry_delay=0.05, claim_idle=0.1, claim_interval=0.05)


class Ping(BaseModel):
    n: int


@pytest.fixture
def channel() -> EventChannel[Ping]:
    name = f"ping_{uuid.uuid4().hex}"
    return EventChannel(name=name, stream=f"test.{name}", message=Ping)


@pytest_asyncio.fixture
async def redis(channel: EventChannel[Ping]) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    processed = [key async for key in client.scan_iter(f"{channel.stream}:*")]
    await client.delete(channel.stream, channel.dead_letter_stream, *processed)
    await client.aclose()


async def collect(queue: asyncio.Queue[Ping], count: int) -> list[Ping]:
    return [await asyncio.wait_for(queue.get(), 5) for _ in range(count)]


# Run in a fresh interpreter whose sockets refuse to connect: importing, constructing and
# subscribing must never need one.
_NO_CONNECTION = """
import asyncio, socket
def refuse(*args, **kwargs):
    raise AssertionError("connection attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
asyncio.open_connection = refuse
from pydantic import BaseModel
from servicekit.events import EventBus, EventChannel
class Ping(BaseModel):
    n: int
async def handle(message):
    pass
bus = EventBus("redis://127.0.0.1:6379")
bus.subscribe(EventChannel(name="ping", stream="events.ping", message=Ping), "group", handle)
"""


def test_importing_and_constructing_opens_no_connection() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _NO_CONNECTION],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert result.returncode == 0, result.stderr


def test_build_keeps_a_message_and_validates_anything_else(
    channel: EventChannel[Ping],
) -> None:
    ping = Ping(n=1)
    assert channel.build(ping) is ping
    assert channel.build(type("Row", (), {"n": 2})()) == Ping(n=2)
    assert channel.dead_letter_stream == f"{channel.stream}.dead"


@pytest.mark.asyncio
async def test_publish_connects_lazily_and_appends_to_the_stream(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    bus = EventBus(REDIS_URL)
    event_id = await bus.publish(channel, Ping(n=7))
    await bus.stop()
    [(entry_id, fields)] = await redis.xrange(channel.stream)
    payload, headers, decoded_id = decode_entry(entry_id, fields)
    assert (json.loads(payload), headers["message_id"], decoded_id) == (
        {"n": 7},
        event_id,
        event_id,
    )


@pytest.mark.asyncio
async def test_events_published_before_any_worker_are_delivered(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    publisher = EventBus(REDIS_URL)
    await publisher.publish(channel, Ping(n=1))
    await publisher.publish(channel, Ping(n=2))
    received: asyncio.Queue[Ping] = asyncio.Queue()
    worker = EventBus(REDIS_URL, consumer="late-worker")
    worker.subscribe(channel, "testers", received.put)
    await worker.start()
    try:
        assert await collect(received, 2) == [Ping(n=1), Ping(n=2)]
        await publisher.publish(channel, Ping(n=3))
        assert await collect(received, 1) == [Ping(n=3)]
        assert [group["name"] for group in await redis.xinfo_groups(channel.stream)] == [b"testers"]
    finally:
        await worker.stop()
        await publisher.stop()


@pytest.mark.asyncio
async def test_an_event_published_twice_is_handled_once(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    received: asyncio.Queue[Ping] = asyncio.Queue()
    bus = EventBus(REDIS_URL)
    bus.subscribe(channel, "testers", received.put)
    await bus.start()
    try:
        event_id = await bus.publish(channel, Ping(n=1))
        await bus.publish(channel, Ping(n=1), event_id=event_id)
        await bus.publish(channel, Ping(n=2))
        assert await collect(received, 2) == [Ping(n=1), Ping(n=2)]
        assert received.empty()
        await wait_until_acknowledged(redis, channel)
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_a_failing_handler_is_retried(channel: EventChannel[Ping], redis: Redis) -> None:
    attempts: list[int] = []
    received: asyncio.Queue[Ping] = asyncio.Queue()

    async def flaky(ping: Ping) -> None:
        attempts.append(ping.n)
        if len(attempts) < 2:
            raise RuntimeError("temporarily unavailable")
        await received.put(ping)

    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    bus.subscribe(channel, "testers", flaky)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        assert await collect(received, 1) == [Ping(n=1)]
        assert attempts == [1, 1]
        assert await redis.xlen(channel.dead_letter_stream) == 0
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_a_poison_message_is_dead_lettered_and_the_worker_goes_on(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    attempts: list[int] = []
    received: asyncio.Queue[Ping] = asyncio.Queue()

    async def fails_on_13(ping: Ping) -> None:
        attempts.append(ping.n)
        if ping.n == 13:
            raise ValueError("unlucky")
        await received.put(ping)

    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    bus.subscribe(channel, "testers", fails_on_13)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=13))
        await bus.publish(channel, Ping(n=14))
        assert await collect(received, 1) == [Ping(n=14)]
        dead = await wait_for_dead_letters(redis, channel, 1)
        assert attempts.count(13) == FAST_RETRIES.max_failures
        assert (
            b"unlucky" in dead[0][1][b"dead_letter_error"]
            and dead[0][1][b"dead_letter_group"] == b"testers"
        )
        await bus.publish(channel, Ping(n=15))
        assert await collect(received, 1) == [Ping(n=15)]
        await wait_until_acknowledged(redis, channel)
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_malformed_entries_are_dead_lettered_as_they_were_and_their_batch_goes_on(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    received: asyncio.Queue[Ping] = asyncio.Queue()
    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    bus.subscribe(channel, "testers", received.put)
    malformed: list[dict[FieldT, EncodableT]] = [
        {b"__data__": b"not json at all"},
        {b"__data__": b"\xff\xfe not even UTF-8"},
        {b"unexpected": b"shape"},
    ]
    # Written before the worker starts, so that it reads them in one batch with a good event.
    await bus.publish(channel, Ping(n=0))
    for fields in malformed:
        await redis.xadd(channel.stream, fields)
    await bus.broker.publish({"n": "not a number"}, stream=channel.stream)
    await bus.publish(channel, Ping(n=1))
    await bus.start()
    try:
        assert await collect(received, 2) == [Ping(n=0), Ping(n=1)]
        dead = await wait_for_dead_letters(redis, channel, 4)
        assert all(
            fields[b"dead_letter_error"].startswith(b"malformed payload") for _, fields in dead
        )
        for (_, fields), original in zip(dead, malformed):
            assert original.items() <= fields.items()
        await wait_until_acknowledged(redis, channel)
        assert received.empty()
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_entries_faststream_0_5_wrote_and_left_pending_are_handled_after_the_upgrade(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    """A stream upgraded in place: 0.5's JSON entries, two of them read by a 0.5 worker that then
    stopped for good. Each is handled once: the pending ones claimed once they are idle."""
    for n in range(5):
        event_id = str(uuid.uuid4())
        envelope = {"data": json.dumps({"n": n}), "headers": {"message_id": event_id}}
        await redis.xadd(channel.stream, {b"__data__": json.dumps(envelope).encode()})
    await redis.xgroup_create(channel.stream, "testers", id="0")
    [(_, taken)] = await redis.xreadgroup("testers", "old-worker", {channel.stream: ">"}, count=2)
    assert len(taken) == 2
    received: asyncio.Queue[Ping] = asyncio.Queue()
    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    bus.subscribe(channel, "testers", received.put)
    await bus.start()
    try:
        handled = await collect(received, 5)
        assert sorted(ping.n for ping in handled) == list(range(5))
        await wait_until_acknowledged(redis, channel)
        await asyncio.sleep(FAST_RETRIES.claim_idle * 3)  # nothing comes a second time
        assert received.empty()
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_a_replayed_dead_letter_is_handled_again_only_by_the_group_that_gave_up(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    fixed = False
    handled: dict[str, list[int]] = {"testers": [], "others": []}

    async def fails_until_fixed(ping: Ping) -> None:
        if not fixed:
            raise ValueError("not yet")
        handled["testers"].append(ping.n)

    async def others(ping: Ping) -> None:
        handled["others"].append(ping.n)

    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    bus.subscribe(channel, "testers", fails_until_fixed)
    bus.subscribe(channel, "others", others)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=7))
        await wait_for_dead_letters(redis, channel, 1)
        [letter] = await dead_letters(redis, channel.stream)
        assert (letter.group, letter.error) == (
            "testers",
            f"failed {FAST_RETRIES.max_failures} times, last: ValueError('not yet')",
        )
        fixed = True
        assert await replay(redis, channel.stream) == 1
        for _ in range(100):
            if handled["testers"]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time enough for the other group to handle it again, if it would
        assert handled == {"testers": [7], "others": [7]}
        assert await redis.xlen(channel.dead_letter_stream) == 0
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_buses_with_different_stream_prefixes_do_not_cross(
    channel: EventChannel[Ping], redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_a, run_b = f"{uuid.uuid4().hex}.", f"{uuid.uuid4().hex}."
    monkeypatch.setenv("EVENTS_STREAM_PREFIX", run_a)
    received: dict[str, asyncio.Queue[Ping]] = {run_a: asyncio.Queue(), run_b: asyncio.Queue()}
    bus_a, bus_b = EventBus(REDIS_URL), EventBus(REDIS_URL, stream_prefix=run_b)
    assert bus_a.stream_prefix == run_a
    bus_a.subscribe(channel, "testers", received[run_a].put)
    bus_b.subscribe(channel, "testers", received[run_b].put)
    await bus_a.start()
    await bus_b.start()
    try:
        await bus_a.publish(channel, Ping(n=1))
        await bus_b.publish(channel, Ping(n=2))
        assert await collect(received[run_a], 1) == [Ping(n=1)]
        assert await collect(received[run_b], 1) == [Ping(n=2)]
        await asyncio.sleep(0.2)
        assert received[run_a].empty() and received[run_b].empty()
        assert await bus_b.messages(channel) == [Ping(n=2)]
        assert not await redis.exists(channel.stream)
    finally:
        await bus_a.stop()
        await bus_b.stop()
        for prefix in (run_a, run_b):
            await redis.delete(*[key async for key in redis.scan_iter(f"{prefix}*")])


@pytest.mark.asyncio
async def test_a_stream_keeps_about_its_max_length(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    bounded = replace(channel, retention=Retention(max_length=100))
    bus = EventBus(REDIS_URL)
    for n in range(1000):
        await bus.publish(bounded, Ping(n=n))
    await bus.stop()
    # Redis trims whole nodes (100 entries by default): a little more than asked is kept.
    assert 100 <= await redis.xlen(channel.stream) < 300
    assert (await bus.messages(bounded))[-1] == Ping(n=999)


@pytest.mark.asyncio
async def test_a_stream_drops_entries_older_than_its_max_age(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    aged = replace(channel, retention=Retention(max_length=None, max_age=1.0))
    bus = EventBus(REDIS_URL)
    for n in range(250):  # a few of Redis' 100-entry nodes, which it trims whole
        await bus.publish(aged, Ping(n=n))
    await asyncio.sleep(1.2)
    await bus.publish(aged, Ping(n=250))
    await bus.stop()
    kept = [ping.n for ping in await bus.messages(aged)]
    assert len(kept) < 100 and kept[-1] == 250, kept


@pytest.mark.asyncio
async def test_dead_letters_keep_about_their_max_length(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    for n in range(300):
        last = await redis.xadd(channel.stream, {b"__data__": f"not json {n}".encode()})
    policy = replace(FAST_RETRIES, dead_letter_max_length=100)
    bus = EventBus(REDIS_URL, policy=policy)
    bus.subscribe(channel, "testers", lambda ping: asyncio.sleep(0))
    await bus.start()
    try:
        for _ in range(200):
            [group] = await redis.xinfo_groups(channel.stream)
            if group["last-delivered-id"] == last and group["pending"] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await bus.stop()
    assert 100 <= await redis.xlen(channel.dead_letter_stream) < 300


@pytest.mark.asyncio
async def test_a_permanent_failure_is_dead_lettered_at_once_with_its_reason(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    attempts: list[int] = []

    async def chat_gone(ping: Ping) -> None:
        attempts.append(ping.n)
        raise PermanentFailure("chat not found")

    # Retries as slow as the defaults: a permanent failure must not wait for any of them.
    bus = EventBus(REDIS_URL, policy=DeliveryPolicy(max_failures=5, claim_idle=10))
    bus.subscribe(channel, "testers", chat_gone)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        [letter] = await asyncio.wait_for(wait_for_dead_letters(redis, channel, 1), 2)
        assert letter[1][b"dead_letter_error"] == b"permanent failure: chat not found"
        await wait_until_acknowledged(redis, channel)
        assert attempts == [1]
    finally:
        await bus.stop()


@pytest.mark.parametrize("wait", [0.4, 1.2])  # shorter and longer than claim_idle
@pytest.mark.asyncio
async def test_retry_after_waits_as_asked_and_does_not_count_as_a_failure(
    channel: EventChannel[Ping], redis: Redis, wait: float
) -> None:
    attempted_at: list[float] = []
    received: asyncio.Queue[Ping] = asyncio.Queue()

    async def rate_limited(ping: Ping) -> None:
        attempted_at.append(time.monotonic())
        if len(attempted_at) <= 3:  # more often than max_failures allows failures
            raise RetryAfter(wait, "Too Many Requests")
        await received.put(ping)

    policy = DeliveryPolicy(max_failures=2, claim_idle=0.8, claim_interval=0.05)
    bus = EventBus(REDIS_URL, policy=policy)
    bus.subscribe(channel, "testers", rate_limited)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        assert await asyncio.wait_for(received.get(), 10) == Ping(n=1)
        gaps = [later - earlier for earlier, later in zip(attempted_at, attempted_at[1:])]
        assert all(wait <= gap < wait + 0.5 for gap in gaps), gaps
        assert await redis.xlen(channel.dead_letter_stream) == 0
    finally:
        await bus.stop()


@pytest.mark.asyncio
async def test_transient_failures_back_off_exponentially(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    attempted_at: list[float] = []

    async def down(ping: Ping) -> None:
        attempted_at.append(time.monotonic())
        raise ConnectionError("telegram unreachable")

    policy = DeliveryPolicy(max_failures=4, retry_delay=0.2, claim_idle=0.3, claim_interval=0.02)
    bus = EventBus(REDIS_URL, policy=policy)
    bus.subscribe(channel, "testers", down)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        [letter] = await wait_for_dead_letters(redis, channel, 1)
        assert letter[1][b"dead_letter_error"].startswith(b"failed 4 times")
        gaps = [later - earlier for earlier, later in zip(attempted_at, attempted_at[1:])]
        # 0.2, 0.4, 0.8 s: the last two wait longer than claim_idle.
        assert len(gaps) == 3, gaps
        assert all(delay <= gap < delay + 0.3 for gap, delay in zip(gaps, [0.2, 0.4, 0.8])), gaps
    finally:
        await bus.stop()


async def wait_until_acknowledged(redis: Redis, channel: EventChannel[Ping]) -> None:
    """Handlers return before the bus acknowledges: waits for nothing to be pending."""

    async def nothing_pending() -> bool:
        return (await redis.xpending(channel.stream, "testers"))["pending"] == 0

    await wait_until_async(nothing_pending, 5, "nothing pending")


async def wait_for_dead_letters(redis: Redis, channel: EventChannel[Ping], count: int) -> list:
    for _ in range(100):
        entries = await redis.xrange(channel.dead_letter_stream)
        if len(entries) >= count:
            return entries
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} dead letters, found {len(entries)}")


@pytest.mark.asyncio
async def test_consuming_resumes_after_the_group_vanishes(
    channel: EventChannel[Ping], redis: Redis
) -> None:
    """Redis came back without its data (or the stream was deleted): FastStream stops the
    subscribers of a group that no longer exists, and the bus recreates it and restarts them."""
    bus = EventBus(REDIS_URL, policy=FAST_RETRIES)
    received: asyncio.Queue[Ping] = asyncio.Queue()
    bus.subscribe(channel, "workers", received.put)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        assert await collect(received, 1) == [Ping(n=1)]
        await redis.delete(channel.stream)
        await bus.publish(channel, Ping(n=2))
        assert await collect(received, 1) == [Ping(n=2)]
        assert await redis.xpending(channel.stream, "workers") == {
            "pending": 0,
            "min": None,
            "max": None,
            "consumers": [],
        }
    finally:
        await bus.stop()
