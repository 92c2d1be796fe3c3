"""The migrations on a real PostgreSQL: up, down and up again, and in step with the ORM models."""

from __future__ import annotations

import asyncio

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from backend.alembic_cli import alembic_config
from backend.db import async_driver_url
from backend.orm import Base


def _inspect(database_url: str) -> tuple[set[str], list[Any]]:
    """The tables in the database, and the differences autogenerate finds from the ORM models."""

    def read(connection: Connection) -> tuple[set[str], list[Any]]:
        tables = set(inspect(connection).get_table_names())
        return tables, compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async def run() -> tuple[set[str], list[Any]]:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "head")
    assert _inspect(database_url)[0] == {"alembic_version", "users", "event_outbox"}
    command.downgrade(config, "base")
    assert _inspect(database_url)[0] == {"alembic_version"}
    command.upgrade(config, "head")
    tables, differences = _inspect(database_url)
    assert tables == {"alembic_version", "users", "event_outbox"}
    assert differences == [], "the ORM models and the migrations differ; add a migration"
