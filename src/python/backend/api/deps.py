"""FastAPI wiring: the unit of work each request gets (a database session and its events; the
generated routes' one dependency besides their guard), and the controllers the routes build from it.

The dependency is a coroutine function, as FastAPI runs a plain function in its thread pool (a
thread hop per request); the controllers are plain calls, not dependencies, which cost a resolution.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from backend.controllers.debug import DebugService
from backend.controllers.users import UsersService
from backend.db import Database
from backend.tables import EVENT_OUTBOX
from generated.backend.debug import DebugController
from generated.backend.storage.users import UserRepository
from generated.backend.users import UsersController
from servicekit.errors import UNAVAILABLE
from servicekit.events.outbox import OutboxUnitOfWork
from servicekit.events.relay import OutboxRelay


async def get_unit_of_work(request: Request) -> AsyncIterator[OutboxUnitOfWork]:
    """The request's transaction: its session (the controller's too) and its events, in the outbox."""
    database: Database = request.app.state.database
    relay: OutboxRelay = request.app.state.relay
    session = database.sessions()
    try:
        yield OutboxUnitOfWork(session, EVENT_OUTBOX, committed=relay.wake)
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


def users_controller(unit: OutboxUnitOfWork) -> UsersController:
    return UsersService(UserRepository(unit.session))


def debug_controller(unit: OutboxUnitOfWork) -> DebugController:
    return DebugService()
