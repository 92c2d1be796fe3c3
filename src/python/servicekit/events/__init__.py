"""Typed events on Redis Streams: delivered at least once, handled once per consumer group.

`EventBus` publishes and consumes through FastStream: its stream subscribers read new entries
and claim idle ones (`min_idle_time`), with acknowledgement left to us (`AckPolicy.MANUAL`).
`servicekit.events.delivery` adds what FastStream leaves out: deduplication by event id, retries
with backoff, dead letters, and the failure classes of `servicekit.events.failures`. A generated
route commits its events through a `UnitOfWork`: `servicekit.events.outbox` writes them in the
transaction of the change and `servicekit.events.relay` appends them to their streams (both need
SQLAlchemy, so they are imported from there, not here).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servicekit.events.bus import EventBus
    from servicekit.events.channel import EventChannel
    from servicekit.events.delivery import DeliveryPolicy
    from servicekit.events.failures import PermanentFailure, RetryAfter
    from servicekit.events.handling import current_event_id, handling_event
    from servicekit.events.unit_of_work import PublishOnCommit, UnitOfWork, nothing_to_commit

__all__ = [
    "DeliveryPolicy",
    "EventBus",
    "EventChannel",
    "PermanentFailure",
    "PublishOnCommit",
    "RetryAfter",
    "UnitOfWork",
    "current_event_id",
    "handling_event",
    "nothing_to_commit",
]

_MODULES = {
    "DeliveryPolicy": "delivery",
    "EventBus": "bus",
    "EventChannel": "channel",
    "PermanentFailure": "failures",
    "RetryAfter": "failures",
    "PublishOnCommit": "unit_of_work",
    "UnitOfWork": "unit_of_work",
    "current_event_id": "handling",
    "handling_event": "handling",
    "nothing_to_commit": "unit_of_work",
}


def __getattr__(name: str) -> Any:
    """Imported on first use: a tool importing one submodule (the dead-letter tool) need not load
    FastStream, which takes seconds."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
