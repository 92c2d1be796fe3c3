"""Publishing to and consuming from event channels; no connection until publish() or start()."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from faststream.redis import RedisBroker, StreamSub
from redis.asyncio import Redis, UnixDomainSocketConnection

from servicekit.events.channel import DEFAULT_RETENTION, EventChannel, M, Retention
from servicekit.events.delivery import Delivery, DeliveryPolicy, entries_of, keep_entries
from servicekit.events.envelope import REUSABLE_ID_HEADER, decode_entry


class _UnixSocketConnection(UnixDomainSocketConnection):
    """FastStream 0.5 passes TCP socket options to every connection; a Unix socket takes none."""

    def __init__(
        self,
        *,
        socket_keepalive: Any = None,
        socket_keepalive_options: Any = None,
        socket_type: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)


def _connection_options(url: str) -> dict[str, Any]:
    return {"connection_class": _UnixSocketConnection} if url.startswith("unix://") else {}


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
        with warnings.catch_warnings():
            # FastStream 0.5's stream subscriber reads only the JSON format it calls deprecated.
            warnings.filterwarnings("ignore", "JSONMessageFormat", DeprecationWarning)
            # Delivery validates by itself: FastStream's dependency injection would only add a
            # thread hop per message. It logs every message: at DEBUG, so that a busy log stays readable.
            self.broker = RedisBroker(
                url,
                apply_types=False,
                log_level=logging.DEBUG,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                **_connection_options(url),
            )
        self.policy = policy or DeliveryPolicy()
        if stream_prefix is None:
            stream_prefix = os.environ.get("EVENTS_STREAM_PREFIX", "")
        self.stream_prefix = stream_prefix
        # A pool that connects on first command.
        self._redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._deliveries: list[tuple[Delivery, Callable[..., Awaitable[object]]]] = []
        self._reclaimers: list[asyncio.Task[None]] = []
        self._connected = False
        self._trimmed_at: dict[str, float] = {}  # stream -> when max_age last trimmed it

    async def connect(self) -> None:
        """Connects now rather than at the first publish; start() connects too."""
        if not self._connected:
            await self.broker.connect()
            self._connected = True

    async def ping(self) -> None:
        """Raises unless Redis answers (within the bus's timeout, if it has one)."""
        await self._redis.ping()

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
        await self.connect()
        headers = {"message_id": event_id}
        if reusable_id:
            headers[REUSABLE_ID_HEADER] = "1"
        # The event id doubles as correlation id: one id to follow in logs, one uuid less to make.
        stream = self.stream_prefix + stream
        await self.broker.publish(
            body,
            stream=stream,
            headers=headers,
            correlation_id=event_id,
            maxlen=retention.max_length,
        )
        if retention.max_age is not None:
            await self._trim_by_age(stream, retention.max_age)
        return event_id

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
        stream = StreamSub(
            channel.stream,
            group=group,
            consumer=self._consumer,
            last_id=">",
            max_records=self.policy.batch_size,
            batch=True,
        )
        # Delivery acknowledges each entry, once its event is handled or dead-lettered.
        subscriber = self.broker.subscriber(
            stream=stream, no_ack=True, parser=keep_entries, decoder=entries_of
        )
        subscriber(delivery.handle)
        self._deliveries.append((delivery, subscriber.consume))

    async def start(self) -> None:
        for delivery, _ in self._deliveries:
            await delivery.ensure_group()
        await self.broker.start()
        self._connected = True
        self._reclaimers = [
            asyncio.create_task(delivery.reclaim(consume)) for delivery, consume in self._deliveries
        ]

    async def stop(self) -> None:
        for task in self._reclaimers:
            task.cancel()
        await asyncio.gather(*self._reclaimers, return_exceptions=True)
        self._reclaimers = []
        await self.broker.stop()
        await self._redis.aclose()
        self._connected = False
