"""Typed event channels over Redis streams (FastStream), connecting only when first used."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream.redis import RedisBroker, StreamSub
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class EventChannel(Generic[M]):
    """One event: its name, the Redis stream carrying it and its message class."""

    name: str
    stream: str
    message: type[M]

    def build(self, value: Any) -> M:
        """The channel's message from `value`: itself, or validated from its attributes."""
        if isinstance(value, self.message):
            return value
        return self.message.model_validate(value, from_attributes=True)


class EventBus:
    """Publishes to and consumes from event channels; no connection until publish() or start().

    Subscribe before start(): FastStream starts the consumers it knows of at start.
    """

    def __init__(self, url: str, *, consumer: str | None = None) -> None:
        self.broker = RedisBroker(url)  # tests wrap it in faststream.redis.TestRedisBroker
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._connected = False

    async def publish(self, channel: EventChannel[M], message: M) -> None:
        if not self._connected:
            await self.broker.connect()
            self._connected = True
        await self.broker.publish(message.model_dump(mode="json"), stream=channel.stream)

    def subscribe(self, channel: EventChannel[M], group: str, handler: Callable[[M], Awaitable[None]]) -> None:
        """Calls `handler` with each validated message, as one consumer of the group `group`."""
        stream = StreamSub(channel.stream, group=group, consumer=self._consumer)

        async def consume(body: dict[str, Any]) -> None:
            await handler(channel.message.model_validate(body))

        self.broker.subscriber(stream=stream)(consume)

    async def start(self) -> None:
        await self.broker.start()
        self._connected = True

    async def stop(self) -> None:
        await self.broker.stop()
        self._connected = False
