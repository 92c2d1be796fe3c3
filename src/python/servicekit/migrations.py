"""Alembic for a service, configured in code rather than an alembic.ini, so its migrations run the
same way from the source tree, a pex and an image.

A service's `migrations` package holds `env.py` (one call: `run_env(<the service's metadata>)`),
`script.py.mako` and `versions/`; its `alembic_cli` calls `alembic_main`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command, context
from alembic.config import CommandLine, Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.persistence import async_driver_url


def alembic_config(migrations: ModuleType, database_url: str) -> Config:
    """Alembic on `database_url` with the scripts of the `migrations` package. Under `pants run`
    (working in the repository's root) the package's sources are used, so that `revision` writes
    its new file there rather than into the pex."""
    config = Config()
    assert migrations.__file__ is not None, "a package of files"
    packaged = Path(migrations.__file__).parent
    in_repository = Path("src/python", *migrations.__name__.split("."))
    location = in_repository if (in_repository / "env.py").is_file() else packaged
    config.set_main_option("script_location", str(location.resolve()))
    # An attribute, not a main option: the ini parser would interpolate '%' in passwords.
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(migrations: ModuleType, database_url: str) -> None:
    command.upgrade(alembic_config(migrations, database_url), "head")


def alembic_main(
    migrations: ModuleType, database_url: Callable[[ExitStack], str], argv: list[str] | None
) -> None:
    """Alembic's own command line on the database `database_url` names (it may start one)."""
    cli = CommandLine(prog="alembic")
    options = cli.parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    # Alembic's progress lines, as its own CLI shows them; other libraries only when they warn.
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s")
    logging.getLogger("alembic").setLevel(logging.INFO)
    with ExitStack() as stack:
        config = alembic_config(migrations, database_url(stack))
        config.cmd_opts = options
        cli.run_cmd(config, options)


def run_env(metadata: MetaData, version_table: str = "alembic_version") -> None:
    """The body of a service's env.py: migrates the database at config.attributes["database_url"]
    (asyncpg) towards `metadata`, which autogenerate and `alembic check` compare with, recording
    its revision in `version_table`."""
    database_url = async_driver_url(context.config.attributes["database_url"])
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": version_table,
        # What autogenerate and `alembic check` compare: types and server defaults too.
        "compare_type": True,
        "compare_server_default": True,
    }
    if context.is_offline_mode():  # `--sql`: print the SQL instead of running it
        context.configure(url=database_url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(database_url, metadata, options))


async def _run_online(database_url: str, metadata: MetaData, options: dict[str, Any]) -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_locked, metadata, options)
    finally:
        await engine.dispose()


def _run_locked(connection: Connection, metadata: MetaData, options: dict[str, Any]) -> None:
    """Under an advisory lock held until the migration's transaction ends: processes migrating at
    once take turns, and each reads the version the one before it committed (then has nothing to do).
    The lock's key comes from the tables' names, so services sharing a server do not wait on each
    other."""
    key = zlib.crc32(",".join(sorted(metadata.tables)).encode())
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        context.run_migrations()
