"""A database and stream names of the run's own, on the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from e2e.processes import DATABASE_SERVER_URL, REDIS_URL, execute


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server."""
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    asyncio.run(execute(DATABASE_SERVER_URL, f'CREATE DATABASE "{name}"'))
    try:
        yield DATABASE_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(DATABASE_SERVER_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def stream_prefix() -> Iterator[str]:
    """The services' EVENTS_STREAM_PREFIX: streams of this run's own on the shared Redis."""
    prefix = f"e2e-{uuid.uuid4().hex[:12]}."
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
