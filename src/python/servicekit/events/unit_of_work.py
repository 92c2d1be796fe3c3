"""What a generated route commits: the controller's changes and the events they cause, together.

The route stages its events with `publish()` and calls `commit()` after the controller returns, or
`rollback()` when it raised, so a controller neither publishes nor commits. A service with a
database commits through `servicekit.events.outbox.OutboxUnitOfWork` (events written in the same
transaction as the change); one without commits through `PublishOnCommit`.
"""

from __future__ import annotations

from typing import Any, Protocol

from servicekit.events.bus import EventBus
from servicekit.events.channel import EventChannel, M


class UnitOfWork(Protocol):
    def publish(self, channel: EventChannel[M], message: M) -> None:
        """Stages the event built from `message`: it goes out only if, and once, the commit does."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None:
        """Discards the changes and the staged events."""


class PublishOnCommit:
    """The unit of work of a service without a database: there is no change to commit the events
    with, so commit publishes them on `bus`. Without a bus it only serves routes that publish none.
    """

    def __init__(self, bus: EventBus | None = None) -> None:
        self.bus = bus
        self._staged: list[tuple[EventChannel[Any], Any]] = []

    def publish(self, channel: EventChannel[M], message: M) -> None:
        if self.bus is None:
            raise ValueError(f"no event bus to publish {channel.name} on")
        self._staged.append((channel, channel.build(message)))

    async def commit(self) -> None:
        staged, self._staged = self._staged, []
        for channel, message in staged:
            assert self.bus is not None  # publish() accepts nothing without one
            await self.bus.publish(channel, message)

    async def rollback(self) -> None:
        self._staged = []


async def nothing_to_commit() -> UnitOfWork:
    """The unit of work of routes that publish no event and keep no database (as a dependency:
    a coroutine function, which FastAPI calls in the event loop rather than in its thread pool)."""
    return PublishOnCommit()
