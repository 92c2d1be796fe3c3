"""The database connection: an async SQLAlchemy engine (asyncpg) and its session factory."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def async_driver_url(url: str) -> str:
    """`url` with SQLAlchemy's asyncpg driver, whichever PostgreSQL scheme it was given with."""
    _, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}"


class Database:
    """Connects on first use, not on construction."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_driver_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        # Objects stay readable after commit: responses are built from them once the session is done.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
