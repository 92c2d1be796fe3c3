"""Appends the committed rows of a service's event outbox to their streams, oldest first.

Each row goes out under its event id and is deleted once appended: should the process die (or
Redis fail) in between, the row goes out again later and consumers handle the event once, by
its id. One relay at a time holds the outbox's PostgreSQL advisory lock, whatever the number of
replicas, so batches reach the streams in the outbox's order. A replica wakes its relay when it
commits events (low latency, no query while idle); a short poll catches the rows of replicas
that died before relaying them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import Row, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.events.bus import Entry, EventBus
from servicekit.events.channel import DEFAULT_RETENTION, EventChannel
from servicekit.metrics import (
    OUTBOX_BATCHES,
    OUTBOX_FAILURES,
    OUTBOX_OLDEST_AGE,
    OUTBOX_RELAYED,
    OUTBOX_WAITING,
)
from servicekit.tracing import context_from, current_trace_context, tracer, tracing_enabled

logger = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        bus: EventBus,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        publish_timeout: float = 5.0,
        max_retry_delay: float = 5.0,
        channels: Iterable[EventChannel[Any]] = (),
    ) -> None:
        """`channels`: those whose events the outbox holds, for their streams' retention (others
        get the default)."""
        self.engine = engine
        self._retention = {channel.stream: channel.retention for channel in channels}
        self.table = table
        self.bus = bus
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.max_retry_delay = max_retry_delay
        # Advisory locks are per database: one key per outbox table.
        self._lock_key = zlib.crc32(table.name.encode())
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Rows were committed: relay them now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: relays what the outbox holds, then waits for a wake-up or the next poll."""
        failures = 0
        task = asyncio.current_task()
        while True:
            # A cancellation swallowed below (seen at the database commit of an empty round)
            # still counts: the relay ends when it is told to.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            self._wake.clear()  # before reading: a commit from now on wakes the next round
            try:
                await self.relay_all()
            # Redis or the database down or hung, or anything else: the rows stay, and a relay
            # that stopped would leave every later event behind.
            except Exception as error:  # noqa: BLE001
                failures += 1
                OUTBOX_FAILURES.inc()
                logger.warning(
                    "relaying the event outbox (attempt %d): %s: %s",
                    failures,
                    type(error).__name__,
                    error,
                )
                # Not cut short by wake-ups: every request would retry a Redis that is down.
                await asyncio.sleep(min(self.max_retry_delay, 0.05 * 2**failures))
                continue
            if failures:
                logger.warning("relaying the event outbox again after %d failures", failures)
                failures = 0
            # Not asyncio.wait_for: Python 3.11's loses a cancellation that meets a wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    async def relay_all(self) -> None:
        """Relays batches until the outbox is empty (as far as this transaction sees)."""
        while await self.relay_batch() == self.batch_size:
            pass

    async def relay_batch(self) -> int:
        """Appends up to `batch_size` of the oldest rows to their streams, in one round trip to
        Redis, and deletes them.

        Raises if Redis fails or takes more than `publish_timeout` seconds: the rows then stay.
        """
        table = self.table
        async with self.engine.begin() as connection:
            # Waits for a relay of another replica: rows committed before this wake-up are then
            # visible, and go out after the ones that relay took.
            await connection.execute(select(func.pg_advisory_xact_lock(self._lock_key)))
            rows = (
                await connection.execute(
                    select(
                        table.c.id,
                        table.c.event_id,
                        table.c.stream,
                        table.c.body,
                        table.c.trace_context,
                    )
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            spans = [_publish_span(row) for row in rows] if tracing_enabled() else []
            entries = [
                Entry(
                    row.stream,
                    row.body,
                    row.event_id,
                    self._retention.get(row.stream, DEFAULT_RETENTION),
                    trace_context=(
                        current_trace_context(trace.set_span_in_context(spans[index]))
                        if spans
                        else None
                    ),
                )
                for index, row in enumerate(rows)
            ]
            try:
                async with asyncio.timeout(self.publish_timeout):
                    await self.bus.append_all(entries, reusable_ids=True)
            except BaseException as error:
                for span in spans:
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR))
                raise
            finally:
                for span in spans:
                    span.end()
            await connection.execute(delete(table).where(table.c.id.in_([row.id for row in rows])))
        OUTBOX_BATCHES.inc()
        OUTBOX_RELAYED.inc(len(rows))
        return len(rows)

    async def sample(self) -> None:
        """The outbox gauges: rows waiting, and the age of the oldest."""
        table = self.table
        async with self.engine.connect() as connection:
            waiting, oldest_age = (
                await connection.execute(
                    select(
                        func.count(),
                        func.coalesce(
                            func.extract("epoch", func.now() - func.min(table.c.created_at)), 0
                        ),
                    ).select_from(table)
                )
            ).one()
        OUTBOX_WAITING.set(waiting)
        OUTBOX_OLDEST_AGE.set(float(oldest_age))


def _publish_span(row: Row[Any]) -> Span:
    """The producer span of a row's publish, in the trace of the request that committed it."""
    return tracer.start_span(
        f"{row.stream} publish",
        context=context_from(row.trace_context),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "redis",
            "messaging.destination.name": row.stream,
            "messaging.message.id": row.event_id,
        },
    )
