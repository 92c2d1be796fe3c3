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
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from backend import migrations
from servicekit.migrations import alembic_config
from servicekit.persistence import async_driver_url
from backend.tables import METADATA
from servicekit.scratch_database import scratch_database


def _inspect(database_url: str) -> tuple[set[str], list[Any]]:
    """The tables in the database, and the differences autogenerate finds from the ORM models."""

    def read(connection: Connection) -> tuple[set[str], list[Any]]:
        tables = set(inspect(connection).get_table_names())
        return tables, compare_metadata(
            MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            ),
            METADATA,
        )

    async def run() -> tuple[set[str], list[Any]]:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    config = alembic_config(migrations, database_url)
    command.upgrade(config, "head")
    assert _inspect(database_url)[0] == {
        "alembic_version",
        "users",
        "event_outbox",
        "idempotency_keys",
    }
    command.downgrade(config, "base")
    assert _inspect(database_url)[0] == {"alembic_version"}
    command.upgrade(config, "head")
    tables, differences = _inspect(database_url)
    assert tables == {"alembic_version", "users", "event_outbox", "idempotency_keys"}
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
            assert (
                tables == {"alembic_version", "users", "event_outbox", "idempotency_keys"}
                and differences == []
            )


def _alembic(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`pants run src/python/backend:alembic -- <arguments>` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "backend.alembic_cli", *arguments],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:1",  # required by the settings, unused
            "BACKEND_EMBEDDED": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_alembic_check_passes_on_the_migrations_and_names_what_drifted(database_url: str) -> None:
    """The spec's tables (generated) and the migrations agree; a column the migrations lack is
    reported by table and column, as CI would show it."""
    server_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with scratch_database(server_url, prefix="alembic_check") as url:
        assert _alembic(url, "upgrade", "head").returncode == 0
        agreeing = _alembic(url, "check")
        assert agreeing.returncode == 0, agreeing.stderr
        assert "No new upgrade operations detected" in agreeing.stderr + agreeing.stdout

        async def drop_column() -> None:
            engine = create_async_engine(async_driver_url(url))
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("ALTER TABLE users DROP COLUMN is_admin"))
            finally:
                await engine.dispose()

        asyncio.run(drop_column())
        drifted = _alembic(url, "check")
    assert drifted.returncode != 0
    output = drifted.stderr + drifted.stdout
    assert "add_column" in output and "'users'" in output and "is_admin" in output, output
    assert "Traceback" not in output, output
