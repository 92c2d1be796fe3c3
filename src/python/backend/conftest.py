"""Fixtures: each test module gets its own freshly created database, dropped after the module;
`live_server` serves an app over real HTTP."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from backend.alembic_cli import upgrade_to_head
from servicekit.scratch_database import any_scratch_database
from servicekit.embedded import embedded_redis
from servicekit.waiting import free_port


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """An empty database on DATABASE_URL's server, 127.0.0.1:5432, or an embedded server, in that order.

    With none available the tests are skipped, except in CI (CI=true), where that is a failure.
    """
    with ExitStack() as stack:
        try:
            url = stack.enter_context(any_scratch_database(prefix="backend_test"))
        except Exception as error:  # noqa: BLE001 - any failure means "no database"
            message = f"no PostgreSQL for the tests: {type(error).__name__}: {error}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        yield url


@pytest.fixture(scope="module")
def migrated_database_url(database_url: str) -> str:
    upgrade_to_head(database_url)
    return database_url


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis server of the test module's own: what the app publishes, and nothing else."""
    with embedded_redis() as url:
        yield url


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn in a thread, as in production (real HTTP, keep-alive); yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
