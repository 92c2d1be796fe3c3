"""An event's name, the Redis stream carrying it, its message class and how long it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Retention:
    """What a stream keeps, handled or not: Redis trims by whole nodes, so a little more.

    The default bounds a stream to 100,000 entries (some tens of MB); a consumer that falls that
    far behind loses the oldest.
    """

    max_length: int | None = 100_000  # XADD MAXLEN ~
    max_age: float | None = None  # seconds; XTRIM MINID ~ (throttled to once a second)


DEFAULT_RETENTION = Retention()


@dataclass(frozen=True)
class EventChannel(Generic[M]):
    """One event: its name, the Redis stream carrying it and its message class."""

    name: str
    stream: str
    message: type[M]
    retention: Retention = DEFAULT_RETENTION

    @property
    def dead_letter_stream(self) -> str:
        """Where messages that cannot be handled end up, with the reason."""
        return f"{self.stream}.dead"

    def build(self, value: Any) -> M:
        """The channel's message from `value`: itself, or validated from its attributes."""
        if isinstance(value, self.message):
            return value
        return self.message.model_validate(value, from_attributes=True)
