"""With Redis down, a request that publishes still succeeds: its event waits in the database's
outbox and reaches the stream once Redis is back."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from backend.app import create_app
from backend.tables import EVENT_OUTBOX
from generated.events import USER_REGISTERED
from generated.models import UserRegisteredEvent
from servicekit.embedded import embedded_redis
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer
from servicekit.events.envelope import decode_entry
from servicekit.waiting import free_port

pytestmark = pytest.mark.asyncio


async def test_an_event_published_while_redis_is_down_is_relayed_when_it_is_back(
    migrated_database_url: str,
) -> None:
    port = free_port()  # nothing listens there yet
    app = create_app(migrated_database_url, f"redis://127.0.0.1:{port}/0", keys=TEST_KEYS)
    telegram_id = random.randrange(10**12)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://backend", headers=bearer("backend")
    ) as client, app.router.lifespan_context(app):
        response = await client.post("/users", json={"telegram_id": telegram_id})
        assert response.status_code == 201, response.text
        async with app.state.database.sessions() as session:
            [waiting] = (await session.execute(select(EVENT_OUTBOX))).all()
        assert waiting.stream == USER_REGISTERED.stream
        assert waiting.body["telegram_id"] == telegram_id

        with embedded_redis(port) as redis_url:
            redis = Redis.from_url(redis_url)
            try:
                entries = await _entries_within(redis, USER_REGISTERED.stream, seconds=10)
            finally:
                await redis.aclose()
        async with app.state.database.sessions() as session:
            assert (await session.execute(select(EVENT_OUTBOX))).all() == []

    [(entry_id, fields)] = entries
    payload, _, event_id = decode_entry(entry_id, fields)
    assert event_id == waiting.event_id
    event = UserRegisteredEvent.model_validate_json(payload)
    assert (event.id, event.telegram_id) == (response.json()["id"], telegram_id)


async def _entries_within(redis: Redis, stream: str, *, seconds: float) -> list:
    for _ in range(int(seconds * 10)):
        entries = await redis.xrange(stream)
        if entries:
            return entries
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing on {stream} after {seconds}s")
