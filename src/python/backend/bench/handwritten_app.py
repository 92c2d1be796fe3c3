"""The benchmark's baseline: GET /users/{id} and POST /users as an engineer would write them by hand,
doing the backend's work.

The same tables (backend.tables, migrated by backend.prestart), a session per request, a unique
telegram_id answered with 409, and user_registered written to the event outbox in the user's
transaction. A relay of its own appends the outbox rows to the same Redis stream, in FastStream's
format, the way the backend's relay does (one at a time per database, oldest first, each batch in
one pipelined round trip).
Callers show a bearer token, checked as the backend checks it (servicekit.auth's verifier: key id,
signature, expiry, lifetime, audience, key restrictions, deny-list; then the roles). The engine's pool and timeouts come from the
backend's settings.

With METRICS_PORT set, each request is observed as an engineer would add it by hand with the same
libraries: a Prometheus counter and histogram per route, a JSON access line, a server span.
"""

import asyncio
import contextlib
import logging
import os
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from faststream.redis import RedisBroker
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from servicekit.persistence import async_driver_url
from backend.tables import EVENT_OUTBOX
from generated.backend.storage.users import UserRecord
from servicekit.persistence import BIGINT_MAX
from servicekit.api import NATIVE_TELEMETRY_OFF
from backend.settings import Settings
from servicekit.auth import InvalidToken, Principal
from servicekit.events.envelope import REUSABLE_ID_HEADER

logger = logging.getLogger(__name__)

STREAM = "events.user_registered"
STREAM_MAX_LENGTH = 100_000
RELAY_BATCH = 100


REQUESTS = Counter("handwritten_requests", "Requests", ["method", "route", "status"])
LATENCY = Histogram("handwritten_request_seconds", "Request latency", ["method", "route"])
access_logger = logging.getLogger("access")
tracer = trace.get_tracer("handwritten")


class Instrumentation:
    """ASGI middleware: a server span, a counter and a histogram per route, an access line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        with tracer.start_as_current_span(
            scope["method"], context=propagate.extract(headers), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, send_status)
            finally:
                route = scope["route"].path if "route" in scope else ""
                span.update_name(f"{scope['method']} {route}")
                span.set_attribute("http.response.status_code", status)
                elapsed = time.perf_counter() - start
                REQUESTS.labels(scope["method"], route, str(status)).inc()
                LATENCY.labels(scope["method"], route).observe(elapsed)
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    route,
                    status,
                    extra={"duration_ms": round(elapsed * 1000, 3)},
                )


class NewUser(BaseModel):
    telegram_id: int = Field(ge=0, le=BIGINT_MAX)
    is_admin: bool = False


class StoredUser(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    telegram_id: int
    is_admin: bool
    created_at: datetime
    updated_at: datetime


class Relay:
    """Appends the outbox's rows to their stream, oldest first, then deletes them; woken by commits
    and polled each second."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], redis_url: str, timeout: float):
        self.sessions = sessions
        self.broker = RedisBroker(redis_url, socket_timeout=timeout)
        self.redis = Redis.from_url(redis_url, socket_timeout=timeout)
        self.stream_prefix = os.environ.get("EVENTS_STREAM_PREFIX", "")
        self.wake = asyncio.Event()
        self.lock_key = zlib.crc32(EVENT_OUTBOX.name.encode())

    async def run(self) -> None:
        await self.broker.connect()
        while True:
            self.wake.clear()
            try:
                while await self.relay_batch() == RELAY_BATCH:
                    pass
            except Exception as error:  # noqa: BLE001  # the rows stay for the next round
                logger.warning("relaying the outbox: %r", error)
                await asyncio.sleep(1)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await self.wake.wait()

    async def relay_batch(self) -> int:
        async with self.sessions.begin() as session:
            await session.execute(select(func.pg_advisory_xact_lock(self.lock_key)))
            oldest = select(EVENT_OUTBOX.c.id).order_by(EVENT_OUTBOX.c.id).limit(RELAY_BATCH)
            rows = (
                await session.execute(
                    delete(EVENT_OUTBOX)
                    .where(EVENT_OUTBOX.c.id.in_(oldest.scalar_subquery()))
                    .returning(EVENT_OUTBOX)
                )
            ).all()
            async with self.redis.pipeline(transaction=False) as pipeline:
                for row in sorted(rows, key=lambda row: row.id):
                    await self.broker.publish(
                        row.body,
                        stream=self.stream_prefix + row.stream,
                        headers={"message_id": row.event_id, REUSABLE_ID_HEADER: "1"},
                        correlation_id=row.event_id,
                        maxlen=STREAM_MAX_LENGTH,
                        pipeline=pipeline,
                    )
                await pipeline.execute()
        return len(rows)

    async def stop(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()


def create_handwritten_app(database_url: str, redis_url: str, settings: Settings) -> FastAPI:
    engine = create_async_engine(
        async_driver_url(database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_statement_timeout_seconds,
        },
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    relay = Relay(sessions, redis_url, settings.redis_timeout_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relaying = asyncio.create_task(relay.run())
        yield
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)
        await relay.stop()
        await engine.dispose()

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    verifier = settings.token_verifier("backend")
    bearer = HTTPBearer(auto_error=False)

    async def get_caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "no bearer token", {"WWW-Authenticate": "Bearer"})
        try:
            return verifier.verify(credentials.credentials)
        except InvalidToken as problem:
            raise HTTPException(401, str(problem), {"WWW-Authenticate": "Bearer"}) from None

    Session = Annotated[AsyncSession, Depends(get_session)]
    Caller = Annotated[Principal, Depends(get_caller)]
    users = APIRouter(prefix="/users", tags=["users"])

    @users.post("", status_code=201, response_model=StoredUser)
    async def create_user(body: NewUser, caller: Caller, session: Session) -> StoredUser:
        if not caller.roles & {"admin", "service"} or (body.is_admin and not caller.is_admin):
            raise HTTPException(403, "forbidden")
        user = UserRecord(**body.model_dump())
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            raise HTTPException(
                409, f"telegram_id {body.telegram_id} is already registered"
            ) from None
        created = StoredUser.model_validate(user)
        event = created.model_dump(mode="json", include={"id", "telegram_id", "created_at"})
        await session.execute(
            insert(EVENT_OUTBOX).values(event_id=uuid.uuid4().hex, stream=STREAM, body=event)
        )
        await session.commit()
        relay.wake.set()
        return created

    @users.get("/{user_id}", response_model=StoredUser)
    async def get_user(user_id: int, caller: Caller, session: Session) -> StoredUser:
        if not caller.roles & {"admin", "service"} and caller.subject != str(user_id):
            raise HTTPException(403, "forbidden")
        user = await session.get(UserRecord, user_id) if 0 < user_id <= BIGINT_MAX else None
        if user is None:
            raise HTTPException(404, f"user {user_id} not found")
        return StoredUser.model_validate(user)

    # Instrumented by hand (Instrumentation), not by FastAPI's own telemetry, as the backend is.
    app = FastAPI(lifespan=lifespan, telemetry=NATIVE_TELEMETRY_OFF)
    app.include_router(users)
    if settings.metrics_port is not None:
        app.add_middleware(Instrumentation)
    return app
