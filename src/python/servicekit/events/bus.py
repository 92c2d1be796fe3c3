"""Publishing to and consuming from event channels; no connection until publish() or start()."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from redis.asyncio import Redis
from redis.exceptions import RedisError

from servicekit.events.channel import DEFAULT_RETENTION, EventChannel, M, Retention
from servicekit.events.delivery import Delivery, DeliveryPolicy, entries_of, keep_entries
from servicekit.events.envelope import REUSABLE_ID_HEADER, decode_entry
from servicekit.metrics import CONSUMER_LAG, PENDING
from servicekit.tracing import current_trace_context

logger = logging.getLogger(__name__)


class Entry(NamedTuple):
    """A validated message body for `stream` (named without the bus's prefix), as `event_id`;
    `trace_context`: the W3C headers of the span publishing it (default: the current one)."""

    stream: str
    body: dict[str, Any]
    event_id: str
    retention: Retention = DEFAULT_RETENTION
    trace_context: dict[str, str] | None = None


class EventBus:
    """Carries events on Redis streams, each subscription a consumer in a consumer group.

    Subscribe before start(): FastStream starts the consumers it knows of at start.

    Every stream name gets `stream_prefix` in front (default: $EVENTS_STREAM_PREFIX, else none),
    so that test runs sharing a Redis, or several systems, keep their streams apart.
    """

    def __init__(
        self,
        url: str,
        *,
        consumer: str | None = None,
        policy: DeliveryPolicy | None = None,
        timeout: float | None = None,
        stream_prefix: str | None = None,
    ) -> None:
        """`timeout`: seconds to connect to Redis and for each reply, so that a hung Redis fails a
        command instead of holding it; None waits as long as the socket does. Keep it above the
        blocking reads of the subscribers."""
        # Delivery validates by itself: FastStream's dependency injection would only add a thread
        # hop per message. It logs every message: at DEBUG, so that a busy log stays readable.
        self.broker = RedisBroker(
            url,
            apply_types=False,
            log_level=logging.DEBUG,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self.policy = policy or DeliveryPolicy()
        if stream_prefix is None:
            stream_prefix = os.environ.get("EVENTS_STREAM_PREFIX", "")
        self.stream_prefix = stream_prefix
        # A pool that connects on first command.
        self._redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        # Each subscription's delivery and its two FastStream subscribers.
        self._subscriptions: list[tuple[Delivery[Any], list[Any]]] = []
        self._resubscriber: asyncio.Task[None] | None = None
        self._connected = False
        self._trimmed_at: dict[str, float] = {}  # stream -> when max_age last trimmed it

    async def connect(self) -> None:
        """Connects now rather than at the first publish; start() connects too."""
        if not self._connected:
            await self.broker.connect()
            self._connected = True

    async def ping(self) -> None:
        """Raises unless Redis answers (within the bus's timeout, if it has one)."""
        await self._redis.ping()  # type: ignore[misc]  # redis-py 7: sync-or-async

    async def publish(
        self, channel: EventChannel[M], message: M, *, event_id: str | None = None
    ) -> str:
        """Appends the validated message to the channel's stream; returns its event id.

        Pass `event_id` when publishing the same event again (a retried request): consumers then
        handle it once.
        """
        body = channel.build(message).model_dump(mode="json")
        reusable_id = event_id is not None
        return await self.append(
            channel.stream,
            body,
            event_id or uuid.uuid4().hex,
            reusable_id=reusable_id,
            retention=channel.retention,
        )

    async def append(
        self,
        stream: str,
        body: dict[str, Any],
        event_id: str,
        *,
        reusable_id: bool,
        retention: Retention = DEFAULT_RETENTION,
    ) -> str:
        """Appends a validated message body to `stream` (named without the prefix) as event
        `event_id`; returns the id.

        `reusable_id`: the id may come again in another entry, so consumers look it up first.
        """
        await self.append_all([Entry(stream, body, event_id, retention)], reusable_ids=reusable_id)
        return event_id

    async def append_all(self, entries: Sequence[Entry], *, reusable_ids: bool) -> None:
        """Appends the entries in their order, in one round trip to Redis (a pipeline of
        FastStream publishes); as `append`."""
        await self.connect()
        current = current_trace_context()
        async with self._redis.pipeline(transaction=False) as pipeline:
            for entry in entries:
                headers = {"message_id": entry.event_id}
                if reusable_ids:
                    headers[REUSABLE_ID_HEADER] = "1"
                headers.update(entry.trace_context or current)
                # The event id doubles as correlation id: one id to follow in logs.
                await self.broker.publish(
                    entry.body,
                    stream=self.stream_prefix + entry.stream,
                    headers=headers,
                    correlation_id=entry.event_id,
                    maxlen=entry.retention.max_length,
                    pipeline=pipeline,
                )
            await pipeline.execute()
        aged = {entry.stream: entry.retention.max_age for entry in entries}
        for stream, max_age in aged.items():
            if max_age is not None:
                await self._trim_by_age(self.stream_prefix + stream, max_age)

    async def _trim_by_age(self, stream: str, max_age: float) -> None:
        """Drops entries older than `max_age` seconds; at most once a second per stream."""
        now = time.time()
        if now - self._trimmed_at.get(stream, 0.0) < 1:
            return
        self._trimmed_at[stream] = now
        oldest_kept_ms = int((now - max_age) * 1000)
        await self._redis.xtrim(stream, minid=f"{oldest_kept_ms}-0", approximate=True)

    async def messages(self, channel: EventChannel[M]) -> list[M]:
        """Every message on the channel's stream, oldest first: for tests and tools (consumers
        subscribe)."""
        return [
            channel.message.model_validate_json(decode_entry(entry_id, fields)[0])
            for entry_id, fields in await self._redis.xrange(self.on_this_bus(channel).stream)
        ]

    def on_this_bus(self, channel: EventChannel[M]) -> EventChannel[M]:
        """`channel` with its stream named as on this bus (with the prefix)."""
        return replace(channel, stream=self.stream_prefix + channel.stream)

    def subscribe(
        self,
        channel: EventChannel[M],
        group: str,
        handler: Callable[[M], Awaitable[None]],
    ) -> None:
        """Calls `handler` with each validated message, as one consumer of the group `group`."""
        channel = self.on_this_bus(channel)
        delivery = Delivery(channel, group, self._consumer, handler, self.policy, self._redis)
        # New entries, in batches; and entries pending longer than `claim_idle` (their worker died,
        # or a retry is due), taken over one at a time with XAUTOCLAIM.
        reading = StreamSub(
            channel.stream,
            group=group,
            consumer=self._consumer,
            last_id=">",
            max_records=self.policy.batch_size,
            batch=True,
        )
        claiming = StreamSub(
            channel.stream,
            group=group,
            consumer=self._consumer,
            min_idle_time=int(self.policy.claim_idle * 1000),
            polling_interval=int(self.policy.claim_interval * 1000),
            batch=True,
        )
        subscribers = []
        for stream, handle in ((reading, delivery.handle), (claiming, delivery.handle_claimed)):
            # Delivery acknowledges each entry, once its event is handled or dead-lettered.
            subscriber = self.broker.subscriber(
                stream=stream,
                ack_policy=AckPolicy.MANUAL,
                parser=keep_entries,
                decoder=entries_of,
            )
            subscriber(handle)
            subscribers.append(subscriber)
        self._subscriptions.append((delivery, subscribers))

    async def start(self) -> None:
        # Before FastStream's subscribers start: they would create a missing group at the
        # stream's end, leaving out what was published before any worker ran.
        for delivery, _ in self._subscriptions:
            await delivery.ensure_group()
        await self.broker.start()
        self._connected = True
        if self._subscriptions:
            self._resubscriber = asyncio.create_task(self._resubscribe())

    async def _resubscribe(self) -> None:
        """Forever: restarts the subscribers FastStream stopped because their group vanished
        (Redis came back without its data, the stream was deleted), recreating the group first
        at the stream's start, as `start()` does."""
        while True:
            await asyncio.sleep(self.policy.claim_interval)
            for delivery, subscribers in self._subscriptions:
                stopped = [subscriber for subscriber in subscribers if not subscriber.running]
                if not stopped:
                    continue
                try:
                    await delivery.ensure_group()
                    for subscriber in stopped:
                        await subscriber.start()
                except RedisError as error:
                    logger.warning("resubscribing to %s: %s", delivery.channel.stream, error)
                else:
                    logger.warning(
                        "resubscribed to %s as %s", delivery.channel.stream, delivery.group
                    )

    async def sample_consumer_lag(self) -> None:
        """The lag and pending gauges of each subscription, from XINFO GROUPS (one command per
        stream, apart from the subscribers' reads)."""
        for delivery, _ in self._subscriptions:
            groups = await self._redis.xinfo_groups(delivery.channel.stream)
            for group in groups:
                if group["name"].decode() == delivery.group:
                    labels = (delivery.channel.name, delivery.group)
                    # lag is nil when Redis cannot tell (entries deleted past the group's position).
                    CONSUMER_LAG.labels(*labels).set(group.get("lag") or 0)
                    PENDING.labels(*labels).set(group["pending"])

    async def stop(self) -> None:
        if self._resubscriber is not None:
            self._resubscriber.cancel()
            await asyncio.gather(self._resubscriber, return_exceptions=True)
            self._resubscriber = None
        await self.broker.stop()
        await self._redis.aclose()
        self._connected = False
