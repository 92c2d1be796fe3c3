"""With Redis hung (SIGSTOP: connections open, no answers), POST /users still answers 201 at once;
the events wait in the outbox and reach the stream once Redis runs again."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from backend.served_backend import backend_process, events_with_ids, outbox_rows, redis_server
from generated.events import USER_REGISTERED
from servicekit.auth.tokens_testutil import bearer

pytestmark = pytest.mark.asyncio

# What a request may take while Redis is hung (it takes milliseconds when Redis answers).
ANSWER_WITHIN = 2.0
HUNG_FOR = 8.0  # longer than the relay's publish timeout (5 s): it gives up and tries again


async def test_a_hung_redis_delays_the_events_but_not_the_requests(
    migrated_database_url: str,
) -> None:
    with redis_server() as redis, backend_process(migrated_database_url, redis.url) as backend:
        async with httpx.AsyncClient(
            base_url=backend.url, timeout=30, headers=bearer("backend")
        ) as client:
            created = [await post_user(client)]  # the relay is connected to Redis
            await events_within(redis.url, {created[0]}, seconds=10)
            redis.pause()
            try:
                hung_until = time.monotonic() + HUNG_FOR
                while time.monotonic() < hung_until:
                    started = time.monotonic()
                    created.append(await post_user(client))
                    took = time.monotonic() - started
                    assert took < ANSWER_WITHIN, f"POST /users took {took:.1f}s with Redis hung"
                    await asyncio.sleep(0.5)
                # Created while Redis was hung: their events wait in the outbox.
                assert await outbox_rows(migrated_database_url) == len(created) - 1
            finally:
                redis.resume()
            await events_within(redis.url, set(created), seconds=20)


async def post_user(client: httpx.AsyncClient) -> int:
    response = await client.post("/users", json={"telegram_id": random.randrange(10**15)})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def events_within(redis_url: str, user_ids: set[int], *, seconds: float) -> None:
    """Waits until the stream holds the user_registered event of each of `user_ids`, and no other."""
    deadline = time.monotonic() + seconds
    while True:
        events = await events_with_ids(redis_url, USER_REGISTERED)
        arrived = {event.id for _, event in events}
        assert arrived <= user_ids, f"events of users never created: {arrived - user_ids}"
        if arrived == user_ids:
            return
        assert (
            time.monotonic() < deadline
        ), f"{len(user_ids - arrived)} events missing after {seconds}s"
        await asyncio.sleep(0.1)
