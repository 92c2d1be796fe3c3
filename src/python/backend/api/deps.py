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
from servicekit.database import request_session
from backend.tables import EVENT_OUTBOX
from generated.backend.debug import DebugController
from generated.backend.storage.users import UserRepository
from generated.backend.users import UsersController
from servicekit.events.outbox import OutboxUnitOfWork
from servicekit.events.relay import OutboxRelay


async def get_unit_of_work(request: Request) -> AsyncIterator[OutboxUnitOfWork]:
    """The request's transaction: its session (the controller's too) and its events, in the outbox."""
    state = request.app.state
    relay: OutboxRelay = state.relay
    async with request_session(state.database) as session:
        yield OutboxUnitOfWork(
            session, EVENT_OUTBOX, committed=relay.wake, idempotency=state.idempotency_keys
        )


def users_controller(unit: OutboxUnitOfWork) -> UsersController:
    return UsersService(UserRepository(unit.session))


def debug_controller(unit: OutboxUnitOfWork) -> DebugController:
    return DebugService()
