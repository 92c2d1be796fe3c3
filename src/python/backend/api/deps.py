"""FastAPI dependencies: a database session per request, the controllers, the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.controllers.debug import DebugService
from backend.controllers.users import UsersService
from backend.db import Database
from backend.orm import EVENT_OUTBOX
from generated.backend.debug import DebugController
from generated.backend.users import UsersController
from servicekit.errors import UNAVAILABLE
from servicekit.events import UnitOfWork
from servicekit.events.outbox import OutboxUnitOfWork
from servicekit.events.relay import OutboxRelay


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    session = database.sessions()
    try:
        yield session
    except UNAVAILABLE:
        # The connection may be stuck mid-statement (a hung server): rolling back on it would wait
        # again, after the 503 is sent. Discarded instead; the pool opens a fresh one when needed.
        await session.invalidate()
        raise
    finally:
        try:
            await session.close()
        except UNAVAILABLE:
            # Handing the connection back (a rollback) failed on a server that broke or hung
            # meanwhile. This runs once the answer is on its way: drop the connection, never raise.
            await session.invalidate()


def get_unit_of_work(
    session: Annotated[AsyncSession, Depends(get_session)],
    relay: Annotated[OutboxRelay, Depends(get_relay)],
) -> UnitOfWork:
    """The request's session (the controller's too) with its events, in the outbox."""
    return OutboxUnitOfWork(session, EVENT_OUTBOX, committed=relay.wake)


def get_users_controller(session: Annotated[AsyncSession, Depends(get_session)]) -> UsersController:
    return UsersService(session)


def get_debug_controller() -> DebugController:
    return DebugService()
