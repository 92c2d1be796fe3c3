"""Fixtures: each test module gets its own freshly created database, dropped after the module;
`backend` is the app on it through ASGI, `live_server` serves an app over real HTTP."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis

from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from generated.events import USER_REGISTERED
from generated.models import UserRegisteredEvent
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer
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


# Tests of a module share its database: each test takes telegram ids no other test uses.
_telegram_ids = itertools.count(random.randrange(10**12))


def new_telegram_id() -> int:
    return next(_telegram_ids)


@dataclass
class Backend:
    client: httpx.AsyncClient
    app: FastAPI

    async def registered(self) -> list[UserRegisteredEvent]:
        """The user_registered events on the stream since the test began, all committed ones
        relayed."""
        await self.app.state.relay.relay_all()
        return await self.app.state.bus.messages(USER_REGISTERED)


@pytest_asyncio.fixture
async def backend(migrated_database_url: str, redis_url: str) -> AsyncIterator[Backend]:
    """The app on the test module's database and Redis, with the event stream emptied."""
    app = create_app(migrated_database_url, redis_url, keys=TEST_KEYS)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://backend", headers=bearer("backend")
    ) as client, app.router.lifespan_context(app):
        redis = Redis.from_url(redis_url)
        await redis.delete(USER_REGISTERED.stream)
        await redis.aclose()
        yield Backend(client, app)
