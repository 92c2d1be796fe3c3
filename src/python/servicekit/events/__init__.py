"""Typed events on Redis Streams: delivered at least once, handled once per consumer group.

`EventBus` publishes and consumes through FastStream; `servicekit.events.delivery` adds what
FastStream 0.5 leaves out: deduplication by event id, retries of stalled messages and a
dead-letter stream.
"""

from servicekit.events.bus import EventBus
from servicekit.events.channel import EventChannel
from servicekit.events.delivery import DeliveryPolicy

__all__ = ["DeliveryPolicy", "EventBus", "EventChannel"]
