"""The event whose handler is running. Its id is the same on every redelivery, so work keyed by it
(an Idempotency-Key sent to another service) is done once however often the event arrives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current_event_id: ContextVar[str | None] = ContextVar("servicekit_event_id", default=None)


@contextmanager
def handling_event(event_id: str) -> Iterator[None]:
    """Runs the block as the handling of event `event_id` (servicekit.events.delivery does)."""
    token = _current_event_id.set(event_id)
    try:
        yield
    finally:
        _current_event_id.reset(token)


def current_event_id() -> str | None:
    """The id of the event being handled; None outside a handler."""
    return _current_event_id.get()
