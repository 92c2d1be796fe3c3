"""The transactional outbox: a request's events are rows written in the transaction of its change.

Publishing after the commit loses the event when the process dies in between; publishing before
it announces a change that may yet roll back. `OutboxUnitOfWork` inserts the events into the
service's `event_outbox` table in the same transaction as the change, so both commit or neither
does, and `servicekit.events.relay.OutboxRelay` appends the committed rows to their streams.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    Table,
    Text,
    event,
    func,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from servicekit.events.channel import EventChannel, M
from servicekit.idempotency import IdempotencyKeys
from servicekit.tracing import current_trace_context


def outbox_table(metadata: MetaData) -> Table:
    """The outbox's table, event_outbox, in the service's own metadata (and so its migrations).

    `id` orders the events: the relay appends them in its order. `trace_context` is the W3C
    context of the request that committed the event (null when tracing is off), so that the
    relay's publish joins that request's trace whichever replica relays it.
    """
    return Table(
        "event_outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", Text, nullable=False),
        Column("stream", Text, nullable=False),
        Column("body", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        Column("trace_context", JSON, nullable=True),
    )


class ControllerCommitted(RuntimeError):
    """Something other than the unit of work committed its session."""


class OutboxUnitOfWork:
    """One request's transaction in `session`: the controller's changes and the staged events.

    The session commits only through `commit()`: a controller committing by itself would commit
    its change without the events, so that raises ControllerCommitted and the change rolls back.
    `committed` is called after each commit that wrote events (the relay's wake-up).
    """

    def __init__(
        self,
        session: AsyncSession,
        table: Table,
        *,
        committed: Callable[[], None] | None = None,
        idempotency: IdempotencyKeys | None = None,
    ) -> None:
        self.session = session
        self.table = table
        self.idempotency = idempotency  # where routes that take Idempotency-Key keep them
        self._committed = committed
        self._staged: list[dict[str, Any]] = []
        self._committing = False
        session.sync_session.info[_UNIT_OF_WORK] = self

    def publish(self, channel: EventChannel[M], message: M) -> None:
        body = channel.build(message).model_dump(mode="json")
        self._staged.append(
            {
                "event_id": uuid.uuid4().hex,
                "stream": channel.stream,
                "body": body,
                "trace_context": current_trace_context() or None,
            }
        )

    async def commit(self) -> None:
        staged, self._staged = self._staged, []
        if staged:
            await self.session.execute(insert(self.table), staged)
        self._committing = True
        try:
            await self.session.commit()
        finally:
            self._committing = False
        if staged and self._committed is not None:
            self._committed()

    async def rollback(self) -> None:
        self._staged = []
        await self.session.rollback()


# The session's unit of work, in Session.info.
_UNIT_OF_WORK = "servicekit.outbox_unit_of_work"


# One listener for every session, rather than one registered per request (SQLAlchemy's event
# registration costs more than the rest of a unit of work): it acts on sessions that have a unit.
@event.listens_for(Session, "before_commit")
def _only_from_commit(session: Session) -> None:
    unit = session.info.get(_UNIT_OF_WORK)
    if unit is not None and not unit._committing:
        raise ControllerCommitted(
            "the route commits the change together with its events: "
            "a controller must not commit the session itself"
        )
