"""FastAPI dependencies: a database session per request, the controllers, the event bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.controllers.debug import DebugService
from backend.controllers.users import UsersService
from backend.db import Database
from generated.backend.debug import DebugController
from generated.backend.users import UsersController
from servicekit.errors import UNAVAILABLE
from servicekit.events import EventBus


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


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


def get_users_controller(session: Annotated[AsyncSession, Depends(get_session)]) -> UsersController:
    return UsersService(session)


def get_debug_controller() -> DebugController:
    return DebugService()
