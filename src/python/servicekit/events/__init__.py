"""Typed events on Redis Streams: delivered at least once, handled once per consumer group.

`EventBus` publishes and consumes through FastStream; `servicekit.events.delivery` adds what
FastStream 0.5 leaves out: deduplication by event id, retries with backoff, dead letters, and the
failure classes of `servicekit.events.failures`. `servicekit.events.outbox` keeps events in a
service's database while Redis is down (it needs SQLAlchemy, so it is imported from there).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servicekit.events.bus import EventBus
    from servicekit.events.channel import EventChannel
    from servicekit.events.delivery import DeliveryPolicy
    from servicekit.events.failures import PermanentFailure, RetryAfter

__all__ = ["DeliveryPolicy", "EventBus", "EventChannel", "PermanentFailure", "RetryAfter"]

_MODULES = {
    "DeliveryPolicy": "delivery",
    "EventBus": "bus",
    "EventChannel": "channel",
    "PermanentFailure": "failures",
    "RetryAfter": "failures",
}


def __getattr__(name: str) -> Any:
    """Imported on first use: a tool importing one submodule (the dead-letter tool) need not load
    FastStream, which takes seconds."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
