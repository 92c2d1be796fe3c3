"""Handling one channel as one consumer of a group: at least once, each event id once.

Two FastStream subscribers feed `Delivery`: one reads new stream entries in batches
(`Delivery.handle`), the other takes over entries left pending longer than `claim_idle`, a worker
having died or a handler failed (FastStream's XAUTOCLAIM subscriber, `min_idle_time`:
`Delivery.handle_claimed`). Both acknowledge nothing themselves (`AckPolicy.MANUAL`): an entry is
acknowledged once its event is handled or dead-lettered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ContextManager, Generic

from faststream.redis.message import FAKE_CONSUMER, BatchStreamMessage, RedisBatchStreamMessage
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from servicekit.events.acknowledgements import Acknowledgements
from servicekit.events.channel import EventChannel, M
from servicekit.events.envelope import REUSABLE_ID_HEADER, decode_entry
from servicekit.events.failures import PermanentFailure, RetryAfter
from servicekit.events.handling import handling_event
from servicekit.logs import log_context
from servicekit.metrics import (
    EVENT_DURATION,
    EVENTS_DEAD_LETTERED,
    EVENTS_FAILED,
    EVENTS_HANDLED,
)
from servicekit.tracing import context_from, tracer, tracing_enabled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long to wait for a stalled message and how often to retry before giving up on it."""

    max_failures: int = 5
    # A failed handler is retried after `retry_delay`, doubled after each further failure, up to
    # `max_retry_delay`.
    retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    # Entries read at once: the last of a batch must start before `claim_idle` passes.
    batch_size: int = 16
    # A pending message idle this long is taken over: it must exceed the slowest handler run.
    claim_idle: float = 10.0
    # How often the pending entries are looked over when none was idle long enough.
    claim_interval: float = 1.0
    # Redelivery of an event handled longer ago than this is no longer recognised.
    processed_ttl: float = 7 * 24 * 3600.0
    # Dead letters kept per stream (XADD MAXLEN ~): the oldest go first.
    dead_letter_max_length: int = 10_000


# FastStream's own batch parser re-encodes all bodies of a batch as one JSON document, so one
# undecodable entry would fail its whole batch: the subscriber passes the entries on as read, and
# `Delivery` decodes each by itself.
async def keep_entries(batch: BatchStreamMessage) -> RedisBatchStreamMessage:
    """The subscribers' parser. The message acknowledges nothing: `Delivery` does, per entry."""
    return RedisBatchStreamMessage(raw_message=batch, body=b"", consumer=FAKE_CONSUMER, group=None)


async def entries_of(message: RedisBatchStreamMessage) -> BatchStreamMessage:
    """The subscribers' decoder."""
    return message.raw_message


@dataclass
class Delivery(Generic[M]):
    """`handler` applied to `channel` as `consumer` of `group`, with `policy`."""

    channel: EventChannel[M]
    group: str
    consumer: str
    handler: Callable[[M], Awaitable[None]]
    policy: DeliveryPolicy
    redis: Redis
    # Entries this process is handling now; the claiming subscriber may take them back from
    # ourselves.
    _in_flight: set[bytes] = field(default_factory=set)
    # Entries the claiming subscriber took over: delivered before, so perhaps already handled.
    _redelivered: set[bytes] = field(default_factory=set)
    # How often the group delivered each entry taken over (a first delivery is not looked up).
    _attempts: dict[bytes, int] = field(default_factory=dict)

    async def ensure_group(self) -> None:
        """Creates the group at the stream's start, so entries published before any worker count."""
        try:
            await self.redis.xgroup_create(self.channel.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def handle(self, batch: BatchStreamMessage) -> None:
        """The FastStream handler: each entry in turn, skipping those this process is handling.

        Marks and acknowledgements go out per batch (`Acknowledgements`); the lookups of events
        that may have been handled before, in one round trip at the batch's start.
        """
        entries = [
            (entry_id, fields)
            for entry_id, fields in zip(batch["message_ids"], batch["data"])
            if entry_id not in self._in_flight
        ]
        entry_ids = {entry_id for entry_id, _ in entries}
        self._in_flight |= entry_ids
        try:
            decoded = [
                (entry_id, fields, *decode_entry(entry_id, fields)) for entry_id, fields in entries
            ]
            handled = await self._marked(
                [
                    event_id
                    for entry_id, _, _, headers, event_id in decoded
                    # A first delivery of an id the bus generated cannot be a duplicate: no lookup.
                    if entry_id in self._redelivered or REUSABLE_ID_HEADER in headers
                ]
            )
            async with Acknowledgements(
                self.redis, self.channel.stream, self.group, int(self.policy.processed_ttl)
            ) as acks:
                for entry_id, fields, payload, headers, event_id in decoded:
                    if event_id in handled:
                        acks.ack(entry_id)
                    elif await self._handle(entry_id, fields, payload, headers, event_id):
                        await acks.mark(self._processed_key(event_id), entry_id)
                        handled.add(event_id)  # published twice in one batch: once
        finally:
            self._in_flight -= entry_ids
            self._redelivered -= entry_ids
            for entry_id in entry_ids:
                self._attempts.pop(entry_id, None)

    def _processed_key(self, event_id: str) -> str:
        return f"{self.channel.stream}:{self.group}:processed:{event_id}"

    async def _marked(self, event_ids: list[str]) -> set[str]:
        """Those of `event_ids` that this group has handled already."""
        if not event_ids:
            return set()
        marks = await self.redis.mget([self._processed_key(event_id) for event_id in event_ids])
        return {event_id for event_id, mark in zip(event_ids, marks) if mark is not None}

    async def _handle(
        self,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        payload: bytes,
        headers: dict[str, Any],
        event_id: str,
    ) -> bool:
        """Validates and runs the handler; True when it succeeded, else the failure is dealt with.

        Its lines carry the event's id, stream, group and delivery attempt; its span continues
        the trace the entry's headers carry (the request that caused the event)."""
        attempt = self._attempts.get(entry_id, 1)
        with (
            log_context(
                event_id=event_id, stream=self.channel.stream, group=self.group, attempt=attempt
            ),
            self._span(headers, event_id, attempt),
            handling_event(event_id),
        ):
            start = time.perf_counter()
            try:
                return await self._validate_and_run(entry_id, fields, payload, event_id)
            finally:
                EVENT_DURATION.labels(self.channel.name, self.group).observe(
                    time.perf_counter() - start
                )

    def _span(self, headers: dict[str, Any], event_id: str, attempt: int) -> ContextManager[Any]:
        if not tracing_enabled():
            return nullcontext()
        return tracer.start_as_current_span(
            f"{self.channel.stream} process",
            context=context_from(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.destination.name": self.channel.stream,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": event_id,
                "messaging.delivery.attempt": attempt,
            },
        )

    async def _validate_and_run(
        self, entry_id: bytes, fields: dict[bytes, bytes], payload: bytes, event_id: str
    ) -> bool:
        labels = (self.channel.name, self.group)
        try:
            event = self.channel.message.model_validate_json(payload)
        except ValidationError as error:
            EVENTS_FAILED.labels(*labels, "malformed").inc()
            await self._dead_letter(entry_id, event_id, fields, f"malformed payload: {error}")
            return False
        try:
            await self.handler(event)
        except PermanentFailure as error:
            EVENTS_FAILED.labels(*labels, "permanent").inc()
            await self._dead_letter(entry_id, event_id, fields, f"permanent failure: {error}")
        except RetryAfter as error:
            EVENTS_FAILED.labels(*labels, "retry_after").inc()
            await self._asked_to_wait(entry_id, event_id, error)
        except Exception as error:
            EVENTS_FAILED.labels(*labels, "transient").inc()
            await self._failed(entry_id, event_id, fields, error)
        else:
            EVENTS_HANDLED.labels(*labels).inc()
            return True
        return False

    async def handle_claimed(self, batch: BatchStreamMessage) -> None:
        """The claiming subscriber's handler: each entry taken over is handled again, unless its
        retry must still wait, or it was delivered more often than `max_failures` allows without a
        failure being recorded: its handler stops the worker, and it is dead-lettered.

        The claiming subscriber takes one entry at a time: a claim counts as a delivery, so
        entries claimed together with one whose handler stops the worker would be charged for it.
        """
        for entry_id, fields in zip(batch["message_ids"], batch["data"]):
            deliveries, wait_ms = await self._delivery_state(entry_id)
            if wait_ms > 0:  # a retry asked for later than `claim_idle`: not yet
                await self._retry_later(entry_id, wait_ms / 1000, attempts=deliveries - 1)
            elif deliveries > self.policy.max_failures and entry_id not in self._in_flight:
                reason = f"delivered {deliveries} times, never acknowledged: does its handler stop the worker?"
                await self._dead_letter(entry_id, decode_entry(entry_id, fields)[2], fields, reason)
            else:
                self._redelivered.add(entry_id)
                self._attempts[entry_id] = deliveries
                await self.handle(
                    BatchStreamMessage(
                        type="bstream",
                        channel=batch["channel"],
                        message_ids=[entry_id],
                        data=[fields],
                    )
                )

    async def _deliveries(self, entry_id: bytes) -> int:
        """How often the group delivered the entry, this delivery included."""
        return (await self._delivery_state(entry_id))[0]

    async def _delivery_state(self, entry_id: bytes) -> tuple[int, int]:
        """How often the group delivered the entry, and how many ms its retry must still wait."""
        async with self.redis.pipeline(transaction=False) as pipeline:
            pipeline.xpending_range(
                self.channel.stream, self.group, min=entry_id, max=entry_id, count=1
            )
            pipeline.pttl(self._retry_key(entry_id))
            pending, wait_ms = await pipeline.execute()
        return (pending[0]["times_delivered"] if pending else 1), wait_ms

    def _retry_key(self, entry_id: bytes) -> str:
        return f"{self.channel.stream}:{self.group}:retry:{entry_id.decode()}"

    async def _retry_later(self, entry_id: bytes, delay: float, *, attempts: int) -> None:
        """Leaves the entry pending, to be claimed after `delay` seconds as delivered `attempts`
        times so far.

        Entries idle for `claim_idle` are claimed: a shorter delay starts the entry with that much
        idle time already; a longer one also sets a key that `handle_claimed` waits on until it
        expires.
        """
        async with self.redis.pipeline(transaction=False) as pipeline:
            if delay > self.policy.claim_idle:
                pipeline.set(self._retry_key(entry_id), "1", px=max(1, int(delay * 1000)))
            pipeline.xclaim(
                self.channel.stream,
                self.group,
                self.consumer,
                0,
                [entry_id],
                idle=int(max(0.0, self.policy.claim_idle - delay) * 1000),
                retrycount=attempts,
                justid=True,
            )
            await pipeline.execute()

    async def _asked_to_wait(self, entry_id: bytes, event_id: str, error: RetryAfter) -> None:
        """Retries after the time asked for, not counting this attempt as a failure."""
        logger.warning(
            "%s %s asked to wait %.1fs: %s", self.channel.name, event_id, error.seconds, error
        )
        attempts = await self._deliveries(entry_id) - 1
        await self._retry_later(entry_id, error.seconds, attempts=attempts)

    async def _failed(
        self, entry_id: bytes, event_id: str, fields: dict[bytes, bytes], error: Exception
    ) -> None:
        deliveries = await self._deliveries(entry_id)
        if deliveries >= self.policy.max_failures:
            await self._dead_letter(
                entry_id, event_id, fields, f"failed {deliveries} times, last: {error!r}"
            )
            return
        delay = min(self.policy.retry_delay * 2 ** (deliveries - 1), self.policy.max_retry_delay)
        logger.warning(
            "%s %s failed (attempt %d of %d), retrying after %.1fs: %r",
            self.channel.name,
            event_id,
            deliveries,
            self.policy.max_failures,
            delay,
            error,
        )
        await self._retry_later(entry_id, delay, attempts=deliveries)

    async def _dead_letter(
        self, entry_id: bytes, event_id: str, fields: dict[bytes, bytes], reason: str
    ) -> None:
        """Moves the entry, as it was, to the dead-letter stream with why, and acknowledges it."""
        logger.error("%s %s dead-lettered: %s", self.channel.name, event_id, reason)
        EVENTS_DEAD_LETTERED.labels(self.channel.name, self.group).inc()
        dead: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
        dead.update(
            dead_letter_error=reason, dead_letter_group=self.group, dead_letter_entry_id=entry_id
        )
        async with self.redis.pipeline(transaction=True) as pipeline:
            pipeline.xadd(
                self.channel.dead_letter_stream, dead, maxlen=self.policy.dead_letter_max_length
            )
            pipeline.xack(self.channel.stream, self.group, entry_id)
            await pipeline.execute()
