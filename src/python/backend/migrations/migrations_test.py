"""The migrations on a real PostgreSQL: up, down and up again, in step with the ORM models, and
safe to start several times at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
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
from backend.scratch_database import scratch_database


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


CONCURRENT_UPGRADES = 4
TRIALS = 10


def test_concurrent_upgrades_of_an_empty_database_all_succeed(database_url: str) -> None:
    """As replicas or migration jobs started together would: separate processes, one database."""
    server_url = database_url.rsplit("/", 1)[0] + "/postgres"
    for _ in range(TRIALS):
        with scratch_database(server_url, prefix="migrate_race") as empty:
            upgrades = [
                subprocess.Popen(
                    [sys.executable, "-m", "backend.alembic_cli", "upgrade", "head"],
                    env={
                        **os.environ,
                        "PYTHONPATH": os.pathsep.join(sys.path),
                        "DATABASE_URL": empty,
                        "REDIS_URL": "redis://127.0.0.1:1",  # required by the settings, unused
                        "BACKEND_EMBEDDED": "false",
                    },
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _ in range(CONCURRENT_UPGRADES)
            ]
            for upgrade in upgrades:
                output, _ = upgrade.communicate(timeout=120)
                assert upgrade.returncode == 0, output
            tables, differences = _inspect(empty)
            assert tables == {"alembic_version", "users", "event_outbox"} and differences == []
