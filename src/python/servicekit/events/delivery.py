"""Handling one channel as one consumer of a group: at least once, each event id once.

FastStream reads new stream entries and calls `Delivery.handle`; `Delivery.reclaim` takes over
entries left pending too long (a worker died, or the handler failed) and feeds them through the
same FastStream subscriber, so both paths share one handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic

from faststream import context
from faststream.redis.message import DefaultStreamMessage, RedisStreamMessage
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import EncodableT, FieldT

from servicekit.events.channel import EventChannel, M

logger = logging.getLogger(__name__)

# Set by publishers that chose the event id, and so may publish the same event again.
REUSABLE_ID_HEADER = "reusable_event_id"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long to wait for a stalled message and how often to retry before giving up on it."""

    max_failures: int = 5
    # Entries read at once: the last of a batch must start before `claim_idle` passes.
    batch_size: int = 16
    # A pending message idle this long is taken over: it must exceed the slowest handler run.
    claim_idle: float = 10.0
    claim_interval: float = 1.0
    # Redelivery of an event handled longer ago than this is no longer recognised.
    processed_ttl: float = 7 * 24 * 3600.0


@dataclass
class Delivery(Generic[M]):
    """`handler` applied to `channel` as `consumer` of `group`, with `policy`."""

    channel: EventChannel[M]
    group: str
    consumer: str
    handler: Callable[[M], Awaitable[None]]
    policy: DeliveryPolicy
    redis: Redis
    # Entries this process is handling now; the reclaim loop may take them back from ourselves.
    _in_flight: set[bytes] = field(default_factory=set)
    # Entries the reclaim loop took over: delivered before, so perhaps already handled.
    _redelivered: set[bytes] = field(default_factory=set)

    async def ensure_group(self) -> None:
        """Creates the group at the stream's start, so entries published before any worker count."""
        try:
            await self.redis.xgroup_create(self.channel.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def handle(self, body: Any) -> None:
        """The FastStream handler: validate, skip duplicates, run, then record and acknowledge."""
        message: RedisStreamMessage = context.get_local("message")
        entry_id = message.raw_message["message_ids"][0]
        if entry_id in self._in_flight:
            return
        self._in_flight.add(entry_id)
        try:
            await self._handle(body, message)
        finally:
            self._in_flight.discard(entry_id)
            self._redelivered.discard(entry_id)

    async def _handle(self, body: Any, message: RedisStreamMessage) -> None:
        entry_id = message.raw_message["message_ids"][0]
        processed_key = f"{self.channel.stream}:{self.group}:processed:{message.message_id}"
        # A first delivery of an id the bus generated cannot be a duplicate: skip the lookup.
        may_be_duplicate = entry_id in self._redelivered or REUSABLE_ID_HEADER in message.headers
        if may_be_duplicate and await self.redis.exists(processed_key):
            await self.redis.xack(self.channel.stream, self.group, entry_id)
            return
        try:
            event = self.channel.message.model_validate(body)
        except ValidationError as error:
            await self._dead_letter(message, f"malformed payload: {error}")
            return
        try:
            await self.handler(event)
        except Exception as error:
            await self._failed(message, error)
            return
        # One round trip; should the acknowledgement be lost, the mark makes the retry a no-op.
        async with self.redis.pipeline(transaction=False) as pipeline:
            pipeline.set(processed_key, 1, ex=int(self.policy.processed_ttl))
            pipeline.xack(self.channel.stream, self.group, entry_id)
            await pipeline.execute()

    async def reclaim(self, consume: Callable[[DefaultStreamMessage], Awaitable[Any]]) -> None:
        """Forever: takes over entries pending longer than `claim_idle` and hands them to `consume`."""
        idle_ms = int(self.policy.claim_idle * 1000)
        while True:
            try:
                # Also recreates the group when Redis came back without its data.
                await self.ensure_group()
                cursor = "0-0"
                while True:
                    cursor, entries, *_ = await self.redis.xautoclaim(
                        self.channel.stream,
                        self.group,
                        self.consumer,
                        idle_ms,
                        start_id=cursor,
                        count=100,
                    )
                    for entry_id, fields in entries:
                        self._redelivered.add(entry_id)
                        await consume(
                            DefaultStreamMessage(
                                type="stream",
                                channel=self.channel.stream,
                                message_ids=[entry_id],
                                data=fields,
                            )
                        )
                    if cursor in (b"0-0", "0-0"):
                        break
            except RedisError as error:
                logger.warning("reclaiming %s for %s: %s", self.channel.stream, self.group, error)
            await asyncio.sleep(self.policy.claim_interval)

    async def _failed(self, message: RedisStreamMessage, error: Exception) -> None:
        entry_id = message.raw_message["message_ids"][0]
        pending = await self.redis.xpending_range(
            self.channel.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        deliveries = pending[0]["times_delivered"] if pending else 1
        if deliveries >= self.policy.max_failures:
            await self._dead_letter(message, f"failed {deliveries} times, last: {error!r}")
        else:
            logger.warning(
                "%s %s failed (attempt %d of %d), retrying after %.1fs: %r",
                self.channel.name,
                message.message_id,
                deliveries,
                self.policy.max_failures,
                self.policy.claim_idle,
                error,
            )

    async def _dead_letter(self, message: RedisStreamMessage, reason: str) -> None:
        """Moves the entry, as it was, to the dead-letter stream with why, and acknowledges it."""
        entry_id = message.raw_message["message_ids"][0]
        logger.error("%s %s dead-lettered: %s", self.channel.name, message.message_id, reason)
        fields: dict[FieldT, EncodableT] = {
            name: value for name, value in message.raw_message["data"].items()
        }
        fields.update(
            dead_letter_error=reason, dead_letter_group=self.group, dead_letter_entry_id=entry_id
        )
        async with self.redis.pipeline(transaction=True) as pipeline:
            pipeline.xadd(self.channel.dead_letter_stream, fields)
            pipeline.xack(self.channel.stream, self.group, entry_id)
            await pipeline.execute()
