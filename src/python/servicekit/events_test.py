"""EventBus: no connection until used; publish and subscribe through the local Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
import redis.asyncio as redis
from pydantic import BaseModel

from servicekit.events import EventBus, EventChannel

REDIS_URL = "redis://127.0.0.1:6379"


class Ping(BaseModel):
    n: int


def _channel() -> EventChannel[Ping]:
    name = f"ping_{uuid.uuid4().hex}"
    return EventChannel(name=name, stream=f"events.{name}", message=Ping)


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
    result = subprocess.run([sys.executable, "-c", _NO_CONNECTION], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr


def test_build_keeps_a_message_and_validates_anything_else() -> None:
    channel = _channel()
    ping = Ping(n=1)
    assert channel.build(ping) is ping
    assert channel.build(type("Row", (), {"n": 2})()) == Ping(n=2)


@pytest.mark.asyncio
async def test_publish_connects_lazily_and_appends_to_the_stream() -> None:
    channel = _channel()
    bus = EventBus(REDIS_URL)
    await bus.publish(channel, Ping(n=7))
    await bus.stop()
    client = redis.from_url(REDIS_URL)
    try:
        entries = await client.xrange(channel.stream)
        assert len(entries) == 1 and b'"n":7' in b"".join(entries[0][1].values()).replace(b" ", b"")
    finally:
        await client.delete(channel.stream)
        await client.aclose()


@pytest.mark.asyncio
async def test_subscriber_in_a_consumer_group_receives_validated_messages() -> None:
    channel = _channel()
    received: asyncio.Queue[Ping] = asyncio.Queue()
    bus = EventBus(REDIS_URL, consumer="test-consumer")
    bus.subscribe(channel, "testers", received.put)
    await bus.start()
    try:
        await bus.publish(channel, Ping(n=1))
        await bus.publish(channel, Ping(n=2))
        got = [await asyncio.wait_for(received.get(), 5), await asyncio.wait_for(received.get(), 5)]
        assert got == [Ping(n=1), Ping(n=2)]
        client = redis.from_url(REDIS_URL)
        groups = await client.xinfo_groups(channel.stream)
        assert [group["name"] for group in groups] == [b"testers"]
        await client.delete(channel.stream)
        await client.aclose()
    finally:
        await bus.stop()
