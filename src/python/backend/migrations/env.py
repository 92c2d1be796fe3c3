"""Alembic environment: migrates the database at config.attributes["database_url"] (asyncpg)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.persistence import async_driver_url
from backend.tables import METADATA

config = context.config
target_metadata = METADATA
database_url = async_driver_url(config.attributes["database_url"])
# Any fixed bigint no other code locks with: the key of the advisory lock migrations run under.
MIGRATION_LOCK = 0x5EC1F1257_0001


def run_migrations_offline() -> None:
    """`--sql`: print the SQL instead of running it."""
    context.configure(url=database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    """Under an advisory lock held until the migration's transaction ends: processes migrating at
    once take turns, and each reads the version the one before it committed (then has nothing to do).
    """
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
