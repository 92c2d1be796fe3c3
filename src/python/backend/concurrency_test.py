"""One user row, several clients at once over real HTTP (uvicorn, PostgreSQL): a PUT racing two
DELETEs answers 200, 404 or 409, never 5xx, and exactly one DELETE answers 204."""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import Iterator

import httpx
import pytest

from backend.app import create_app
from backend.conftest import live_server
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

TRIALS = 100


@pytest.fixture(scope="module")
def base_url(migrated_database_url: str, redis_url: str) -> Iterator[str]:
    with live_server(create_app(migrated_database_url, redis_url, keys=TEST_KEYS)) as url:
        yield url


async def race(clients: list[httpx.AsyncClient]) -> tuple[int, int, int]:
    """Statuses of (PUT, DELETE, DELETE), sent at once on three connections, on a fresh user."""
    put, first, second = clients
    created = await put.post("/users", json={"telegram_id": random.randrange(10**15)})
    path = f"/users/{created.json()['id']}"
    responses = await asyncio.gather(
        put.put(path, json={"telegram_id": random.randrange(10**15), "is_admin": True}),
        first.delete(path),
        second.delete(path),
    )
    return tuple(response.status_code for response in responses)  # type: ignore[return-value]


@pytest.mark.asyncio
async def test_put_racing_two_deletes(base_url: str) -> None:
    outcomes: collections.Counter[tuple[int, int, int]] = collections.Counter()
    clients = [
        httpx.AsyncClient(base_url=base_url, timeout=10, headers=bearer("backend"))
        for _ in range(3)
    ]
    try:
        for _ in range(TRIALS):
            outcomes[await race(clients)] += 1
    finally:
        for client in clients:
            await client.aclose()
    print(f"\n(PUT, DELETE, DELETE): trials {dict(outcomes)}")
    for put, *deletes in outcomes:
        assert put in (200, 404, 409)
        assert sorted(deletes) == [204, 404]
