"""Who may call what, through the real app on real PostgreSQL and Redis: every operation of the
served document refuses a caller without a token, and each rule of the users spec holds."""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from backend.app import create_app
from servicekit.auth.keys import generate_signing_key
from servicekit.auth.tokens import mint_token
from servicekit.auth.tokens_testutil import (
    TEST_KEYS,
    TEST_SERVICE_SIGNING_KEY,
    TEST_SIGNING_KEY,
    bearer,
)

pytestmark = pytest.mark.asyncio

ADMIN = bearer("backend")
SERVICE = bearer("backend", "service", subject="tg_bot", key=TEST_SERVICE_SIGNING_KEY)
_telegram_ids = itertools.count(random.randrange(10**12))


@pytest_asyncio.fixture
async def client(migrated_database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(migrated_database_url, redis_url, keys=TEST_KEYS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://backend"
    ) as client, app.router.lifespan_context(app):
        yield client


async def new_user(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"telegram_id": next(_telegram_ids), **fields}
    response = await client.post("/users", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


def as_user(user: dict[str, Any]) -> dict[str, str]:
    return bearer("backend", "user", subject=str(user["id"]))


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="backend"')
    assert set(response.json()) == {"detail"}


async def test_every_documented_operation_refuses_a_caller_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    walked = 0
    for template, item in document["paths"].items():
        path = re.sub(r"\{\w+\}", "1", template)
        for method, operation in item.items():
            public = {} in operation["security"]
            body: dict[str, Any] | None = {} if "requestBody" in operation else None
            response = await client.request(method, path, json=body)
            if public:
                assert response.status_code != 401, f"{method} {template}"
            else:
                assert_unauthorized(response)
            walked += 1
    assert walked == 6  # five users operations and the debug command


BAD_TOKENS = {
    "garbage": "not-a-token",
    "expired": mint_token(TEST_SIGNING_KEY, "admin", ["admin"], "backend", ttl_seconds=-120),
    "another audience": mint_token(TEST_SIGNING_KEY, "admin", ["admin"], "tg_bot"),
    "another key, same kid": mint_token(
        generate_signing_key("test"), "admin", ["admin"], "backend"
    ),
    "unknown kid": mint_token(generate_signing_key("other"), "admin", ["admin"], "backend"),
    "alg none": jwt.encode(
        {"sub": "admin", "roles": ["admin"], "aud": "backend", "iat": 0, "exp": 2**40, "jti": "1"},
        "",  # no key: PyJWT's "none"
        algorithm="none",
        headers={"kid": "test"},
    ),
}


def _tampered() -> str:
    """An admin's claims on a user's signature."""
    header, _, signature = mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend").split(".")
    claims = {"sub": "7", "roles": ["admin"], "aud": "backend", "iat": 0, "exp": 2**40, "jti": "1"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize("name", [*BAD_TOKENS, "tampered", "basic scheme", "no claims"])
async def test_a_bad_token_is_401_and_changes_nothing(client: httpx.AsyncClient, name: str) -> None:
    if name == "tampered":
        authorization = f"Bearer {_tampered()}"
    elif name == "basic scheme":
        authorization = "Basic " + base64.b64encode(b"admin:admin").decode()
    elif name == "no claims":
        authorization = "Bearer " + jwt.encode(
            {}, TEST_SIGNING_KEY.key, algorithm="EdDSA", headers={"kid": "test"}
        )
    else:
        authorization = f"Bearer {BAD_TOKENS[name]}"
    before = len((await client.get("/users", params={"limit": 100}, headers=ADMIN)).json())
    response = await client.post(
        "/users",
        json={"telegram_id": next(_telegram_ids)},
        headers={"Authorization": authorization},
    )
    assert_unauthorized(response)
    assert len((await client.get("/users", params={"limit": 100}, headers=ADMIN)).json()) == before
    assert BAD_TOKENS["garbage"] not in response.text


async def test_a_token_within_the_clock_leeway_is_accepted(client: httpx.AsyncClient) -> None:
    token = mint_token(TEST_SIGNING_KEY, "admin", ["admin"], "backend", ttl_seconds=-5)
    response = await client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_a_service_may_register_and_read_users_only(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/users", json={"telegram_id": next(_telegram_ids)}, headers=SERVICE
    )
    assert created.status_code == 201
    user_id = created.json()["id"]
    assert (await client.get(f"/users/{user_id}", headers=SERVICE)).status_code == 200
    refused = [
        await client.get("/users", headers=SERVICE),
        await client.put(f"/users/{user_id}", json={"telegram_id": 1}, headers=SERVICE),
        await client.delete(f"/users/{user_id}", headers=SERVICE),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert refused[0].json() == {"detail": "this operation needs one of the roles: admin"}


async def test_a_service_key_cannot_sign_an_admin_token(client: httpx.AsyncClient) -> None:
    # The calling services' key, as tg_bot holds it: admitted for the role service only.
    forged = bearer("backend", "admin", key=TEST_SERVICE_SIGNING_KEY)
    response = await client.get("/users", headers=forged)
    assert_unauthorized(response)
    assert response.json() == {
        "detail": "the token's key 'test-service' may not grant the roles: admin, user"
    }


async def test_a_user_reads_and_deletes_itself_and_nobody_else(client: httpx.AsyncClient) -> None:
    me, other = await new_user(client), await new_user(client)
    mine = as_user(me)
    assert (await client.get(f"/users/{me['id']}", headers=mine)).json() == me
    # Its telegram_id is who it is: only an admin changes it (else a user could squat another's).
    rewrite = await client.put(f"/users/{me['id']}", json={"telegram_id": 1}, headers=mine)
    assert rewrite.status_code == 403
    for response in (
        await client.get(f"/users/{other['id']}", headers=mine),
        await client.put(f"/users/{other['id']}", json={"telegram_id": 1}, headers=mine),
        await client.delete(f"/users/{other['id']}", headers=mine),
        await client.get("/users", headers=mine),
    ):
        assert response.status_code == 403
    assert (await client.get(f"/users/{other['id']}", headers=ADMIN)).json() == other
    assert (await client.get(f"/users/{me['id']}", headers=ADMIN)).json() == me
    assert (await client.delete(f"/users/{me['id']}", headers=mine)).status_code == 204


async def test_only_an_admin_sets_is_admin(client: httpx.AsyncClient) -> None:
    me = await new_user(client)
    promote = await client.put(f"/users/{me['id']}", json={"is_admin": True}, headers=as_user(me))
    assert promote.status_code == 403
    assert (await client.get(f"/users/{me['id']}", headers=ADMIN)).json()["is_admin"] is False
    telegram_id = next(_telegram_ids)
    for is_admin in (True, False):  # setting it at all is an admin's call
        registered = await client.post(
            "/users", json={"telegram_id": telegram_id, "is_admin": is_admin}, headers=SERVICE
        )
        assert registered.status_code == 403
        assert registered.json() == {"detail": "only an admin may set is_admin"}
    listed = (await client.get("/users", params={"limit": 100}, headers=ADMIN)).json()
    assert telegram_id not in [user["telegram_id"] for user in listed]
    by_admin = await client.put(f"/users/{me['id']}", json={"is_admin": True}, headers=ADMIN)
    assert by_admin.status_code == 200 and by_admin.json()["is_admin"] is True


async def test_an_oversized_token_is_refused_without_stalling_the_server(
    client: httpx.AsyncClient,
) -> None:
    huge = {"Authorization": "Bearer " + "A" * 60_000 + ".e30.x"}
    started = time.monotonic()
    for _ in range(50):
        assert_unauthorized(await client.get("/users", headers=huge))
    assert time.monotonic() - started < 5


async def test_deeply_nested_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", content=b"[" * 30_000, headers={**ADMIN, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "the request is invalid"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_declared_json_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {**ADMIN, **({"content-type": content_type} if content_type else {})}
    body = json.dumps({"telegram_id": next(_telegram_ids)}).encode()
    response = await client.post("/users", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json() == {"detail": "the body must be JSON, sent as application/json"}


BAD_USER_BODIES = {
    "invalid JSON": (b'{"telegram_id": ', "application/json", 422),
    "not declared JSON": (b'{"telegram_id": 1}', "text/plain", 415),
    "not a user": (b'{"telegram_id": "one"}', "application/json", 422),
}


@pytest.mark.parametrize("name", BAD_USER_BODIES)
async def test_only_a_caller_who_may_call_learns_what_is_wrong_with_the_body(
    client: httpx.AsyncClient, name: str
) -> None:
    body, content_type, status = BAD_USER_BODIES[name]
    user = await new_user(client)

    async def send(method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        return await client.request(
            method, path, content=body, headers={**headers, "content-type": content_type}
        )

    for method, path in (("POST", "/users"), ("PUT", f"/users/{user['id']}")):
        assert_unauthorized(await send(method, path, {}))
        assert_unauthorized(await send(method, path, {"Authorization": "Bearer not-a-token"}))
        assert (await send(method, path, as_user(user))).status_code == 403
        assert (await send(method, path, ADMIN)).status_code == status


async def test_a_token_costs_no_database_round_trip_when_refused(client: httpx.AsyncClient) -> None:
    # Refusal happens before any dependency opens a session: a burst of bad tokens stays fast.
    started = time.monotonic()
    for _ in range(200):
        assert (
            await client.get("/users", headers={"Authorization": "Bearer x"})
        ).status_code == 401
    assert time.monotonic() - started < 10
