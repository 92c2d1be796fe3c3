"""The users domain through HTTP, against real PostgreSQL and Redis servers."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from backend.conftest import Backend, new_telegram_id
from servicekit.persistence import BIGINT_MAX

pytestmark = pytest.mark.asyncio


async def create_user(client: httpx.AsyncClient, **fields: object) -> dict[str, Any]:
    response = await client.post("/users", json={"telegram_id": new_telegram_id(), **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_the_user_and_publishes_user_registered(backend: Backend) -> None:
    telegram_id = new_telegram_id()
    response = await backend.client.post("/users", json={"telegram_id": telegram_id})
    assert response.status_code == 201
    user = response.json()
    assert user["telegram_id"] == telegram_id and user["is_admin"] is False
    assert user["created_at"] == user["updated_at"]
    assert [event.model_dump(mode="json") for event in await backend.registered()] == [
        {"id": user["id"], "telegram_id": telegram_id, "created_at": user["created_at"]}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"telegram_id": -1},
        {"telegram_id": "x"},
        {"telegram_id": 1, "id": 5},
        {"telegram_id": BIGINT_MAX + 1},
    ],
)
async def test_invalid_create_is_422_and_publishes_nothing(
    backend: Backend, body: dict[str, Any]
) -> None:
    response = await backend.client.post("/users", json=body)
    assert response.status_code == 422, response.text
    assert await backend.registered() == []


async def test_duplicate_telegram_id_is_409(backend: Backend) -> None:
    user = await create_user(backend.client, is_admin=True)
    response = await backend.client.post("/users", json={"telegram_id": user["telegram_id"]})
    assert response.status_code == 409
    assert str(user["telegram_id"]) in response.json()["detail"]
    assert [event.id for event in await backend.registered()] == [user["id"]]


async def test_concurrent_duplicate_creates_make_one_user(backend: Backend) -> None:
    telegram_id = new_telegram_id()
    responses = await asyncio.gather(
        *(backend.client.post("/users", json={"telegram_id": telegram_id}) for _ in range(20))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19
    assert [event.telegram_id for event in await backend.registered()] == [telegram_id]


async def test_one_event_per_created_user(backend: Backend) -> None:
    users = await asyncio.gather(*(create_user(backend.client) for _ in range(10)))
    registered = await backend.registered()
    assert sorted(event.id for event in registered) == sorted(user["id"] for user in users)


async def test_get(backend: Backend) -> None:
    user = await create_user(backend.client)
    response = await backend.client.get(f"/users/{user['id']}")
    assert (response.status_code, response.json()) == (200, user)


@pytest.mark.parametrize("user_id", [0, 10**9, BIGINT_MAX + 1, -1])
async def test_get_missing_is_404(backend: Backend, user_id: int) -> None:
    assert (await backend.client.get(f"/users/{user_id}")).status_code == 404


async def test_update_changes_only_the_fields_sent(backend: Backend) -> None:
    user = await create_user(backend.client, is_admin=True)
    new_id = new_telegram_id()
    response = await backend.client.put(f"/users/{user['id']}", json={"telegram_id": new_id})
    assert response.status_code == 200
    updated = response.json()
    assert (updated["telegram_id"], updated["is_admin"]) == (new_id, True)
    assert (
        updated["updated_at"] > user["updated_at"] and updated["created_at"] == user["created_at"]
    )
    response = await backend.client.put(f"/users/{user['id']}", json={"is_admin": False})
    assert (response.json()["telegram_id"], response.json()["is_admin"]) == (new_id, False)
    assert (await backend.client.get(f"/users/{user['id']}")).json() == response.json()


@pytest.mark.parametrize(
    "body", [{}, {"telegram_id": None}, {"telegram_id": None, "is_admin": None}]
)
async def test_update_setting_nothing_is_400(backend: Backend, body: dict[str, Any]) -> None:
    user = await create_user(backend.client)
    response = await backend.client.put(f"/users/{user['id']}", json=body)
    assert response.status_code == 400


async def test_update_errors(backend: Backend) -> None:
    first, second = await create_user(backend.client), await create_user(backend.client)
    taken = await backend.client.put(
        f"/users/{second['id']}", json={"telegram_id": first["telegram_id"]}
    )
    assert taken.status_code == 409
    assert (await backend.client.get(f"/users/{second['id']}")).json() == second
    missing = await backend.client.put("/users/999999999", json={"is_admin": True})
    assert missing.status_code == 404
    invalid = await backend.client.put(f"/users/{first['id']}", json={"telegram_id": -5})
    assert invalid.status_code == 422


async def test_delete(backend: Backend) -> None:
    user = await create_user(backend.client)
    response = await backend.client.delete(f"/users/{user['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert (await backend.client.get(f"/users/{user['id']}")).status_code == 404
    assert (await backend.client.delete(f"/users/{user['id']}")).status_code == 404


async def test_paging_through_every_user(backend: Backend) -> None:
    created = [await create_user(backend.client) for _ in range(7)]
    seen: list[dict[str, Any]] = []
    for offset in itertools.count(0, 3):
        response = await backend.client.get("/users", params={"limit": 3, "offset": offset})
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 3
        if not page:
            break
        seen.extend(page)
    ids = [user["id"] for user in seen]
    assert ids == sorted(set(ids)), "pages are ordered by id, without repeats"
    assert all(user in seen for user in created)
    default_page = (await backend.client.get("/users")).json()
    assert default_page == seen[:50]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}]
)
async def test_list_bounds_are_422(backend: Backend, params: dict[str, Any]) -> None:
    assert (await backend.client.get("/users", params=params)).status_code == 422


async def test_list_accepts_the_bounds(backend: Backend) -> None:
    await create_user(backend.client)
    assert len((await backend.client.get("/users", params={"limit": 1})).json()) == 1
    assert (await backend.client.get("/users", params={"limit": 100})).status_code == 200
    assert (await backend.client.get("/users", params={"offset": BIGINT_MAX + 1})).json() == []
