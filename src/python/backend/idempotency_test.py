"""POST /users with an Idempotency-Key, against real PostgreSQL and Redis: a repeat gets the first
answer and changes nothing, whoever sends it when."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from backend.tables import IDEMPOTENCY_KEYS
from backend.conftest import Backend, new_telegram_id
from generated.backend.storage.users import UserRecord
from servicekit.auth.tokens_testutil import bearer

pytestmark = pytest.mark.asyncio


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def users_with(app: FastAPI, telegram_id: int) -> int:
    async with app.state.database.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(UserRecord.telegram_id == telegram_id)
        )
        return int(count or 0)


async def test_a_repeat_gets_the_first_answer_and_no_second_event(backend: Backend) -> None:
    key, body = str(uuid.uuid4()), {"telegram_id": new_telegram_id()}
    first = await backend.client.post("/users", json=body, headers=keyed(key))
    again = await backend.client.post("/users", json=body, headers=keyed(key))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [event.id for event in await backend.registered()] == [first.json()["id"]]


async def test_the_same_key_with_another_body_is_422(backend: Backend) -> None:
    key = str(uuid.uuid4())
    first = await backend.client.post(
        "/users", json={"telegram_id": new_telegram_id()}, headers=keyed(key)
    )
    other = await backend.client.post(
        "/users", json={"telegram_id": new_telegram_id()}, headers=keyed(key)
    )
    assert (first.status_code, other.status_code) == (201, 422)
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(await backend.registered()) == 1


async def test_concurrent_repeats_make_one_user_and_all_get_its_answer(backend: Backend) -> None:
    key, body = str(uuid.uuid4()), {"telegram_id": new_telegram_id()}
    answers = await asyncio.gather(
        *(backend.client.post("/users", json=body, headers=keyed(key)) for _ in range(12))
    )
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await users_with(backend.app, body["telegram_id"]) == 1
    assert len(await backend.registered()) == 1


async def test_keys_belong_to_their_caller(backend: Backend) -> None:
    """Two callers who happen to pick one key make two requests, not a replay of another's."""
    key = "shared-key"
    first = await backend.client.post(
        "/users", json={"telegram_id": new_telegram_id()}, headers=keyed(key)
    )
    other_caller = {**bearer("backend", "service", subject="tg_bot"), **keyed(key)}
    second = await backend.client.post(
        "/users", json={"telegram_id": new_telegram_id()}, headers=other_caller
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


async def test_a_failed_request_keeps_no_key(backend: Backend) -> None:
    """A 409 rolls its transaction back, key included: the repeat runs again (and fails again)."""
    taken = {"telegram_id": new_telegram_id()}
    assert (await backend.client.post("/users", json=taken)).status_code == 201
    key = str(uuid.uuid4())
    for _ in range(2):
        answer = await backend.client.post("/users", json=taken, headers=keyed(key))
        assert answer.status_code == 409 and "Idempotent-Replayed" not in answer.headers


@pytest.mark.parametrize("key", ["", "a" * 256, "tab\tkey", "del\x7f", "sp ace"])
async def test_a_malformed_key_is_400_and_changes_nothing(backend: Backend, key: str) -> None:
    body = {"telegram_id": new_telegram_id()}
    answer = await backend.client.post("/users", json=body, headers=keyed(key))
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["detail"]
    assert await users_with(backend.app, body["telegram_id"]) == 0


async def test_an_expired_key_runs_again_and_is_purged(backend: Backend) -> None:
    key, taken = str(uuid.uuid4()), {"telegram_id": new_telegram_id()}
    assert (await backend.client.post("/users", json=taken, headers=keyed(key))).status_code == 201
    keys = backend.app.state.idempotency_keys
    async with backend.app.state.database.sessions() as session:
        await session.execute(
            update(IDEMPOTENCY_KEYS)
            .where(IDEMPOTENCY_KEYS.c.key == key)
            .values(expires_at=func.now() - timedelta(seconds=1))
        )
        await session.commit()
    # Expired: the request runs again, and meets the user it created (409), not its old answer.
    assert (await backend.client.post("/users", json=taken, headers=keyed(key))).status_code == 409
    # Claimed afresh by a request that succeeds, the key is kept again: its repeat is a replay.
    fresh = {"telegram_id": new_telegram_id()}
    first = await backend.client.post("/users", json=fresh, headers=keyed(key))
    again = await backend.client.post("/users", json=fresh, headers=keyed(key))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    async with backend.app.state.database.sessions() as session:
        await session.execute(
            update(IDEMPOTENCY_KEYS).values(expires_at=func.now() - timedelta(seconds=1))
        )
        await session.commit()
        assert await keys.purge_expired(session) >= 1
        left = await session.scalar(select(func.count()).select_from(IDEMPOTENCY_KEYS))
    assert left == 0
