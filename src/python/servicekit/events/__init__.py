"""Typed events on Redis Streams: delivered at least once, handled once per consumer group.

`EventBus` publishes and consumes through FastStream; `servicekit.events.delivery` adds what
FastStream 0.5 leaves out: deduplication by event id, retries of stalled messages and a
dead-letter stream. `servicekit.events.outbox` keeps events in a service's database while Redis
is down (it needs SQLAlchemy, so it is imported from there, not here).
"""

from servicekit.events.bus import EventBus
from servicekit.events.channel import EventChannel
from servicekit.events.delivery import DeliveryPolicy

__all__ = ["DeliveryPolicy", "EventBus", "EventChannel"]
