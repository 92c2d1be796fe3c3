"""Events kept in the service's database while Redis cannot take them, relayed once it can again.

A request that publishes after committing its change (as the generated routers do) would otherwise
fail with the change saved and its event lost whenever Redis is down. `DurableEventBus` writes such
an event into the service's outbox table instead, and `relay_outbox` appends the rows to their
streams later, under their event ids: consumers handle each event once, even one relayed twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.events.bus import EventBus
from servicekit.events.channel import DEFAULT_RETENTION, Retention

logger = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """The outbox's table, event_outbox, in the service's own metadata (and so its migrations)."""
    return Table(
        "event_outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", Text, nullable=False),
        Column("stream", Text, nullable=False),
        Column("body", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    )


class DurableEventBus(EventBus):
    """An EventBus whose publishing falls back to the `outbox` table when Redis fails."""

    def __init__(
        self,
        url: str,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        **options: Any,
    ) -> None:
        super().__init__(url, **options)
        self.sessions = sessions
        self.outbox = outbox

    async def append(
        self,
        stream: str,
        body: dict[str, Any],
        event_id: str,
        *,
        reusable_id: bool,
        retention: Retention = DEFAULT_RETENTION,
    ) -> str:
        try:
            return await super().append(
                stream, body, event_id, reusable_id=reusable_id, retention=retention
            )
        except (RedisError, OSError) as error:
            # Perhaps Redis appended it before failing: the relayed copy is then a duplicate,
            # which consumers recognise by the id.
            async with self.sessions.begin() as session:
                await session.execute(
                    insert(self.outbox).values(event_id=event_id, stream=stream, body=body)
                )
            logger.warning("%s %s kept in the outbox: %s", stream, event_id, error)
            return event_id

    async def relay_outbox(self, *, interval: float = 1.0, batch_size: int = 100) -> None:
        """Forever: every `interval` seconds, relays what the outbox holds."""
        while True:
            try:
                while await self.relay_pending(batch_size) == batch_size:
                    pass
            except (RedisError, OSError, SQLAlchemyError) as error:
                logger.warning("relaying the event outbox: %s", error)
            await asyncio.sleep(interval)

    async def relay_pending(self, limit: int = 100) -> int:
        """Appends up to `limit` of the oldest outbox rows to their streams and deletes them.

        Rows stay, locked against other relays until then, should Redis fail again.
        """
        async with self.sessions.begin() as session:
            rows = (
                await session.execute(
                    select(self.outbox)
                    .order_by(self.outbox.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                # Not into the outbox again: a failure here leaves the rows where they are.
                await super().append(row.stream, row.body, row.event_id, reusable_id=True)
            if rows:
                await session.execute(
                    delete(self.outbox).where(self.outbox.c.id.in_([row.id for row in rows]))
                )
        return len(rows)
