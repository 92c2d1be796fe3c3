"""POST /debug/command: echoes the command and publishes command_received (through the outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
import pytest_asyncio
from redis.asyncio import Redis

from backend.app import create_app
from generated.events import COMMAND_RECEIVED
from generated.models import CommandReceived
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def app(migrated_database_url: str, redis_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(migrated_database_url, redis_url, keys=TEST_KEYS)
    redis = Redis.from_url(redis_url)
    await redis.delete(COMMAND_RECEIVED.stream)
    await redis.aclose()
    async with app.router.lifespan_context(app):
        yield app


async def published(app: FastAPI) -> list[CommandReceived]:
    """The command_received events on the stream, all committed ones relayed."""
    await app.state.relay.relay_all()
    return await app.state.bus.messages(COMMAND_RECEIVED)


async def post_command(app: FastAPI, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://backend", headers=bearer("backend")
    ) as client:
        return await client.post("/debug/command", json=body)


async def test_command_is_echoed_with_the_current_time_and_published(app: FastAPI) -> None:
    before = datetime.now(timezone.utc)
    response = await post_command(app, {"command": "/start", "args": ["a", "b"], "user_id": 42})
    assert response.status_code == 202
    echoed = CommandReceived.model_validate(response.json())
    assert (echoed.command, echoed.args, echoed.user_id) == ("/start", ["a", "b"], 42)
    assert before <= echoed.timestamp <= datetime.now(timezone.utc)
    assert await published(app) == [echoed]


async def test_a_given_timestamp_is_kept(app: FastAPI) -> None:
    timestamp = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    response = await post_command(
        app, {"command": "/help", "args": [], "user_id": 1, "timestamp": timestamp.isoformat()}
    )
    assert response.status_code == 202
    assert datetime.fromisoformat(response.json()["timestamp"]) == timestamp
    assert [message.timestamp for message in await published(app)] == [timestamp]


async def test_invalid_command_is_422(app: FastAPI) -> None:
    response = await post_command(app, {"command": "/start", "user_id": 1})
    assert response.status_code == 422
    assert await published(app) == []


async def test_a_naive_timestamp_is_422_and_publishes_nothing(app: FastAPI) -> None:
    response = await post_command(
        app, {"command": "/help", "args": [], "user_id": 1, "timestamp": "2024-05-01T12:00:00"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "timestamp"]
    assert await published(app) == []
