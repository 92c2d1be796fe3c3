"""The backend SIGKILLed under load, round after round, between commits and the publishing of
their events: every committed user's user_registered event reaches the stream, none is invented,
and a write that rolled back (a duplicate telegram_id, a request the kill cut short) emits nothing.

    OUTBOX_KILL_ROUNDS=100 ./pants test src/python/backend/outbox_kill_test.py -- -s

The backend is `backend.main` under uvicorn, on the module's own database and its own Redis.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.served_backend import (
    BackendProcess,
    committed_users,
    events_with_ids,
    outbox_rows,
    redis_server,
)
from generated.events import USER_REGISTERED
from servicekit.auth.tokens_testutil import bearer

ROUNDS = int(os.environ.get("OUTBOX_KILL_ROUNDS", "10"))
CLIENTS = 16
# One request in five repeats a telegram_id already sent: a 409, its insert rolled back.
REPEAT_SHARE = 0.2

pytestmark = pytest.mark.asyncio


async def post_users(
    client: httpx.AsyncClient, telegram_ids: Iterator[int], created: dict[int, int]
) -> None:
    """POSTs users until the backend stops answering; `created` gets each 201's id and telegram_id."""
    sent: list[int] = []
    while True:
        repeat = sent and random.random() < REPEAT_SHARE
        telegram_id = random.choice(sent) if repeat else next(telegram_ids)
        try:
            response = await client.post("/users", json={"telegram_id": telegram_id})
        except httpx.TransportError:
            return  # killed
        assert response.status_code in (201, 409), response.text
        sent.append(telegram_id)
        if response.status_code == 201:
            created[response.json()["id"]] = telegram_id


async def load_then_kill(backend: BackendProcess, created: dict[int, int]) -> None:
    """CLIENTS concurrent clients POST users; once they are under way, the backend is SIGKILLed
    at a random moment."""
    telegram_ids = itertools.count(random.randrange(10**15))
    answered_before = len(created)
    async with httpx.AsyncClient(
        base_url=backend.url, timeout=30, headers=bearer("backend")
    ) as client:
        clients = [
            asyncio.create_task(post_users(client, telegram_ids, created)) for _ in range(CLIENTS)
        ]
        while len(created) < answered_before + CLIENTS:
            await asyncio.sleep(0.01)
        await asyncio.sleep(random.uniform(0, 0.3))
        backend.kill()
        await asyncio.gather(*clients)


async def test_a_backend_killed_between_commit_and_publish_loses_no_event(
    migrated_database_url: str, tmp_path: Path
) -> None:
    created: dict[int, int] = {}  # answered 201: user id -> telegram_id
    stranded: list[int] = []  # committed events not yet published when the backend died
    with redis_server() as redis:
        backend = BackendProcess(migrated_database_url, redis.url, tmp_path / "backend.log")
        try:
            for _ in range(ROUNDS):
                backend.start()  # its relay first publishes what the last kill stranded
                await load_then_kill(backend, created)
                stranded.append(await outbox_rows(migrated_database_url))
            backend.start()
            deadline = time.monotonic() + 30
            while await outbox_rows(migrated_database_url):
                assert time.monotonic() < deadline, "the outbox was not relayed within 30 s"
                await asyncio.sleep(0.1)
            backend.stop()
        finally:
            backend.close()
        events = await events_with_ids(redis.url, USER_REGISTERED)
    users = await committed_users(migrated_database_url)

    event_ids_of_user: defaultdict[int, set[str]] = defaultdict(set)
    for event_id, event in events:
        assert users.get(event.id) == event.telegram_id, f"an invented event: {event}"
        event_ids_of_user[event.id].add(event_id)
    print(
        f"{ROUNDS} rounds: {len(users)} users committed ({len(created)} answered 201), "
        f"{len(events)} stream entries; kills stranded committed events in "
        f"{sum(1 for count in stranded if count)} rounds ({sum(stranded)} events in all)"
    )
    assert created.items() <= users.items(), "a 201 for a change that was not committed"
    missing = set(users) - set(event_ids_of_user)
    assert not missing, f"{len(missing)} committed users without their event"
    # Relayed again after a kill, an event keeps its id: consumers handle it once.
    assert all(len(ids) == 1 for ids in event_ids_of_user.values()), "two events for one user"
    assert any(stranded), "no kill fell between a commit and its publish: the test proved nothing"
