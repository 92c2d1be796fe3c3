"""A service's PostgreSQL: an async SQLAlchemy engine (asyncpg) and its session factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit.errors import UNAVAILABLE

from servicekit.metrics import DB_POOL_IN_USE, DB_POOL_OPEN
from servicekit.persistence import async_driver_url
from servicekit.startup import wait_until_reachable


@dataclass(frozen=True)
class Timeouts:
    """Seconds each wait on PostgreSQL may last; past them a request fails (503) instead of hanging."""

    connect: float = 5.0  # TCP and start-up, a hung server included
    statement: float = 5.0  # each statement, timed by the client: a stopped server answers nothing
    pool_checkout: float = 5.0  # for a pooled connection while all are busy


class Database:
    """Connects on first use, not on construction.

    No pre-ping: it would cost a round trip per request. A connection the server dropped (a
    restart) fails its request with a disconnect; SQLAlchemy then discards every connection
    opened before it, and the next requests get fresh ones.
    """

    def __init__(self, url: str, *, pool_size: int = 10, timeouts: Timeouts = Timeouts()) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_driver_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=timeouts.pool_checkout,
            connect_args={"timeout": timeouts.connect, "command_timeout": timeouts.statement},
        )
        # Objects stay readable after commit: responses are built from them once the session is done.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Read when Prometheus scrapes; a process has one database (the last one made, in tests).
        pool = self.engine.pool
        DB_POOL_IN_USE.set_function(pool.checkedout)  # type: ignore[attr-defined]
        DB_POOL_OPEN.set_function(lambda: pool.checkedin() + pool.checkedout())  # type: ignore[attr-defined]

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def wait_for_database(url: str, timeout: float) -> None:
    """Returns once the database at `url` answers; servicekit.startup.Unreachable after `timeout`."""
    database = Database(url, pool_size=1)
    try:
        await wait_until_reachable("PostgreSQL (DATABASE_URL)", database.ping, timeout)
    finally:
        await database.dispose()


@asynccontextmanager
async def request_session(database: Database) -> AsyncIterator[AsyncSession]:
    """One request's session, closed after the answer whatever happened to the server."""
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
