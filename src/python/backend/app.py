"""The FastAPI application: the generated domain routers wired to the controllers, and health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from backend.api.deps import debug_controller, get_unit_of_work, users_controller
from servicekit.database import Database
from backend.tables import EVENT_OUTBOX, IDEMPOTENCY_KEYS
from backend.settings import DEFAULTS, Settings
from generated.backend import debug, users
from generated.events import COMMAND_RECEIVED, USER_REGISTERED
from servicekit.api import NATIVE_TELEMETRY_OFF, harden, serve_spec_openapi
from servicekit.auth import Authenticator, VerificationKeys
from servicekit.events import EventBus
from servicekit.events.relay import OutboxRelay
from servicekit.health import add_health_routes
from servicekit.idempotency import PURGE_BATCH, IdempotencyKeys
from servicekit.metrics import sample_every
from servicekit.swagger_ui import serve_swagger_ui

TITLE = "backend"
VERSION = "0.1.0"
# How often expired idempotency keys are deleted, and how many batches (of PURGE_BATCH) at most:
# up to 100,000 keys a minute.
PURGE_INTERVAL_SECONDS = 60.0
PURGE_BATCHES_PER_RUN = 100


def create_app(
    database_url: str,
    redis_url: str,
    settings: Settings = DEFAULTS,
    keys: VerificationKeys | None = None,
) -> FastAPI:
    """Opens nothing: the database and Redis are connected on first use.

    Tokens are checked with `keys`, by default those the settings name (AUTH_JWKS); a domain whose
    spec keeps it out of the settings' profile (debug, in production) is not served at all.
    """

    metrics = settings.metrics_port is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(app.state.relay.run()),
            # A periodic task that logs a failure and goes on, as the metrics' sampling does.
            asyncio.create_task(sample_every(PURGE_INTERVAL_SECONDS, purge_expired_keys)),
        ]
        if metrics:
            tasks.append(asyncio.create_task(sample_every(5.0, app.state.relay.sample)))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.state.bus.stop()
        await app.state.database.dispose()

    # root_path: the prefix a reverse proxy serves the app under (and strips), for /docs.
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        lifespan=lifespan,
        telemetry=NATIVE_TELEMETRY_OFF,
        root_path=settings.root_path,
        openapi_url="/openapi.json" if settings.serves_docs else None,
        docs_url=None,  # serve_swagger_ui's, with local assets
        redoc_url=None,
    )
    harden(app, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    database = app.state.database = Database(
        database_url, pool_size=settings.db_pool_size, timeouts=settings.database_timeouts()
    )
    bus = app.state.bus = EventBus(redis_url, timeout=settings.redis_timeout_seconds)
    # Routes commit their events into the outbox with their changes; the relay publishes them.
    # With Redis down or hung, requests still succeed and the events wait in the database.
    app.state.relay = OutboxRelay(
        database.engine, EVENT_OUTBOX, bus, channels=(USER_REGISTERED, COMMAND_RECEIVED)
    )
    keys_kept = app.state.idempotency_keys = IdempotencyKeys(
        IDEMPOTENCY_KEYS,
        ttl=timedelta(seconds=settings.idempotency_key_ttl_seconds),
        wait_seconds=settings.idempotency_wait_seconds,
    )

    async def purge_expired_keys() -> None:
        async with database.sessions() as session:
            # Batch after batch while they come back full, up to a bound per run.
            for _ in range(PURGE_BATCHES_PER_RUN):
                if await keys_kept.purge_expired(session) < PURGE_BATCH:
                    break

    auth = Authenticator(settings.token_verifier(TITLE, keys))
    domains = [
        (users, users.create_router(users_controller, get_unit_of_work, auth)),
        (debug, debug.create_router(debug_controller, get_unit_of_work, auth)),
    ]
    served = [(domain, router) for domain, router in domains if settings.profile in domain.PROFILES]
    for _, router in served:
        app.include_router(router)
    serve_spec_openapi(app, TITLE, VERSION, [domain.OPENAPI for domain, _ in served])
    if settings.serves_docs:
        serve_swagger_ui(app)
    add_health_routes(
        app, {"database": database.ping, "redis": bus.ping}, settings.health_timeout_seconds
    )
    return app
