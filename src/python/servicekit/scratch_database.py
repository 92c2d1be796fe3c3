"""Throwaway databases on a PostgreSQL server, for the tests and the benchmark."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.embedded import embedded_postgres
from servicekit.persistence import async_driver_url

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def reachable_server_url() -> str | None:
    """DATABASE_URL if set, else the local server at 127.0.0.1:5432 if it answers, else None."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    return LOCAL_SERVER


@contextmanager
def any_scratch_database(prefix: str) -> Iterator[str]:
    """A scratch database on DATABASE_URL's server, 127.0.0.1:5432, or an embedded server, in that
    order."""
    with ExitStack() as stack:
        server_url = reachable_server_url() or stack.enter_context(embedded_postgres())
        yield stack.enter_context(scratch_database(server_url, prefix))


@contextmanager
def scratch_database(server_url: str, prefix: str = "scratch") -> Iterator[str]:
    """Creates a database with a random name on the server of `server_url`; yields its URL, drops it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: connections a failed test left open must not keep the database alive.
        asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(async_driver_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
