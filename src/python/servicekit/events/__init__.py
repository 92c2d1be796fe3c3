"""Typed events on Redis Streams: delivered at least once, handled once per consumer group.

`EventBus` publishes and consumes through FastStream; `servicekit.events.delivery` adds what
FastStream 0.5 leaves out: deduplication by event id, retries with backoff, dead letters, and the
failure classes of `servicekit.events.failures`. `servicekit.events.outbox` keeps events in a
service's database while Redis is down (it needs SQLAlchemy, so it is imported from there).
"""

from servicekit.events.bus import EventBus
from servicekit.events.channel import EventChannel
from servicekit.events.delivery import DeliveryPolicy
from servicekit.events.failures import PermanentFailure, RetryAfter

__all__ = ["DeliveryPolicy", "EventBus", "EventChannel", "PermanentFailure", "RetryAfter"]
