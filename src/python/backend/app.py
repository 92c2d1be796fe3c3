"""The FastAPI application: the generated domain routers wired to the controllers, and /health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from backend.api.deps import get_bus, get_database, get_debug_controller, get_users_controller
from backend.db import Database
from backend.orm import EVENT_OUTBOX
from generated.backend import debug, users
from servicekit.api import serve_spec_openapi
from servicekit.events.outbox import DurableEventBus

TITLE = "backend"
VERSION = "0.1.0"


def create_app(
    database_url: str,
    redis_url: str,
    *,
    pool_size: int = 10,
    health_timeout: float = 2.0,
    root_path: str = "",
) -> FastAPI:
    """Opens nothing: the database and Redis are connected on first use.

    `root_path`: the prefix a reverse proxy serves the app under (and strips), for /docs.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = asyncio.create_task(app.state.bus.relay_outbox())
        yield
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await app.state.bus.stop()
        await app.state.database.dispose()

    app = FastAPI(title=TITLE, version=VERSION, lifespan=lifespan, root_path=root_path)
    app.state.database = Database(database_url, pool_size=pool_size)
    # With Redis down, events wait in the database and the requests that publish them succeed.
    app.state.bus = DurableEventBus(redis_url, app.state.database.sessions, EVENT_OUTBOX)
    app.include_router(users.create_router(get_users_controller, get_bus))
    app.include_router(debug.create_router(get_debug_controller, get_bus))
    serve_spec_openapi(app, TITLE, VERSION, [users.OPENAPI, debug.OPENAPI])

    @app.get("/health")
    async def health(database: Annotated[Database, Depends(get_database)]) -> JSONResponse:
        try:
            await asyncio.wait_for(database.ping(), health_timeout)
        # Whatever stops the query (refused, unknown database, timeout) makes the service unhealthy.
        except Exception as error:  # noqa: BLE001
            reason = f"database unavailable: {type(error).__name__}: {error}".strip().rstrip(":")
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
