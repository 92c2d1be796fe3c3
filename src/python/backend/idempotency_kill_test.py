"""The backend SIGKILLed under load, round after round, while clients POST users with an
Idempotency-Key each: a client whose answer the kill cut off sends the same request again to the
restarted backend, as a careful client does. Every logical request ends with one 201; those
whose first attempt committed get that attempt's answer; one user and one event each.

    IDEMPOTENCY_KILL_ROUNDS=100 ./pants test src/python/backend/idempotency_kill_test.py -- -s
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import uuid
from collections import Counter, defaultdict
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
from servicekit.waiting import wait_until_async

ROUNDS = int(os.environ.get("IDEMPOTENCY_KILL_ROUNDS", "10"))
CLIENTS = 16

pytestmark = pytest.mark.asyncio


class Call:
    """One logical request: its key and body, and what its attempts met."""

    def __init__(self, telegram_id: int) -> None:
        self.key = str(uuid.uuid4())
        self.body = {"telegram_id": telegram_id}
        self.answers: list[dict[str, object]] = []
        self.replayed = False

    async def attempt(self, client: httpx.AsyncClient) -> bool:
        """Whether it got its answer; False when the backend died under it."""
        try:
            response = await client.post(
                "/users", json=self.body, headers={"Idempotency-Key": self.key}
            )
        except httpx.TransportError:
            return False
        assert response.status_code == 201, response.text
        self.answers.append(response.json())
        self.replayed = self.replayed or "idempotent-replayed" in response.headers
        return True


async def post_until_killed(
    client: httpx.AsyncClient, telegram_ids: itertools.count[int], calls: list[Call]
) -> Call | None:
    """New calls until the backend dies; the call the kill cut off, if any."""
    while True:
        call = Call(next(telegram_ids))
        calls.append(call)
        if not await call.attempt(client):
            return call


async def test_a_request_cut_off_by_a_kill_is_answered_once_when_sent_again(
    migrated_database_url: str, tmp_path: Path
) -> None:
    telegram_ids = itertools.count(random.randrange(10**15))
    calls: list[Call] = []
    with redis_server() as redis:
        backend = BackendProcess(migrated_database_url, redis.url, tmp_path / "backend.log")
        try:
            cut_off: list[Call] = []
            for _ in range(ROUNDS):
                backend.start()
                async with httpx.AsyncClient(
                    base_url=backend.url, timeout=30, headers=bearer("backend")
                ) as client:
                    # What the last kill cut off goes first: the retry of a careful client.
                    for call in cut_off:
                        assert await call.attempt(client), "the backend died before the kill"
                    answered = sum(len(call.answers) for call in calls)
                    posting = [
                        asyncio.create_task(post_until_killed(client, telegram_ids, calls))
                        for _ in range(CLIENTS)
                    ]
                    while sum(len(call.answers) for call in calls) < answered + CLIENTS:
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(random.uniform(0, 0.3))
                    backend.kill()
                    cut_off = [call for call in await asyncio.gather(*posting) if call]
            backend.start()
            async with httpx.AsyncClient(
                base_url=backend.url, timeout=30, headers=bearer("backend")
            ) as client:
                for call in cut_off:
                    assert await call.attempt(client)

            async def relayed() -> bool:
                return await outbox_rows(migrated_database_url) == 0

            await wait_until_async(relayed, 30, "the outbox relayed")
            backend.stop()
        finally:
            backend.close()
        events = await events_with_ids(redis.url, USER_REGISTERED)
    users = await committed_users(migrated_database_url)
    users_of_telegram_id = Counter(users.values())
    replays = sum(call.replayed for call in calls)
    print(
        f"{ROUNDS} rounds: {len(calls)} calls, {replays} answered by a replay of a commit the "
        f"kill cut off; {len(users)} users, {len(events)} events"
    )
    for call in calls:
        assert call.answers, "a call left unanswered"
        assert all(answer == call.answers[0] for answer in call.answers)
        assert users_of_telegram_id[call.body["telegram_id"]] == 1, "a call made two users"
    assert len(users) == len(calls)
    # An event relayed again after a kill keeps its id (consumers handle it once): one id each.
    event_ids_of_user: defaultdict[int, set[str]] = defaultdict(set)
    for event_id, event in events:
        event_ids_of_user[event.id].add(event_id)
    assert event_ids_of_user.keys() == users.keys(), "a user without its event, or an invented one"
    assert all(len(ids) == 1 for ids in event_ids_of_user.values()), "two events for one user"
    assert replays, "no kill fell between a commit and its answer: the test proved nothing"
