"""Client mistakes over real HTTP (uvicorn, keep-alive) on every route with a body: each is a 4xx
JSON error that keeps the connection open, and publishes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from backend.app import create_app
from backend.conftest import live_server
from backend.settings import DEFAULTS
from generated.events import COMMAND_RECEIVED, USER_REGISTERED
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

MAX_BODY_BYTES = 4096
BODY_ROUTES = [("POST", "/users"), ("PUT", "/users/{id}"), ("POST", "/debug/command")]
HOSTILE_BODIES = {
    "nan": b'{"telegram_id": NaN, "command": "/x", "args": [], "user_id": NaN}',
    "infinity": b'{"telegram_id": Infinity, "command": "/x", "args": [], "user_id": 1}',
    "-infinity": b'{"telegram_id": -Infinity, "is_admin": true, "user_id": -Infinity}',
    "lone-surrogate": b'{"telegram_id": 1, "is_admin": false, "command": "\\ud800", "args": ["\\udfff"], "user_id": 1}',
    "not-utf8": b'{"telegram_id": 1, "command": "\xc3\x28", "args": [], "user_id": 1}',
}


@pytest.fixture(scope="module")
def client(migrated_database_url: str, redis_url: str) -> Iterator[httpx.Client]:
    settings = DEFAULTS.model_copy(update={"max_body_bytes": MAX_BODY_BYTES})
    with live_server(create_app(migrated_database_url, redis_url, settings, keys=TEST_KEYS)) as url:
        with httpx.Client(base_url=url, timeout=10, headers=bearer("backend")) as client:
            yield client


@pytest.fixture(scope="module")
def user_id(client: httpx.Client, redis_url: str) -> int:
    response = client.post("/users", json={"telegram_id": random.randrange(10**12)})
    assert response.status_code == 201
    # Its event is relayed after the commit: on the stream before the tests count the streams.
    deadline = time.monotonic() + 10
    while _stream_lengths(redis_url)[0] == 0:
        assert time.monotonic() < deadline, "user_registered not relayed within 10 s"
        time.sleep(0.01)
    return int(response.json()["id"])


def send(client: httpx.Client, method: str, path: str, body: bytes, user_id: int) -> httpx.Response:
    return client.request(
        method,
        path.format(id=user_id),
        content=body,
        headers={"content-type": "application/json"},
    )


def assert_client_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["detail"], str)
    assert response.headers.get("connection") != "close"


@pytest.mark.parametrize("name", HOSTILE_BODIES)
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_hostile_json_is_422_and_the_connection_stays_usable(
    client: httpx.Client, redis_url: str, user_id: int, method: str, path: str, name: str
) -> None:
    events_before = _stream_lengths(redis_url)
    assert_client_error(send(client, method, path, HOSTILE_BODIES[name], user_id), 422)
    assert client.get(f"/users/{user_id}").status_code == 200  # same keep-alive connection
    assert _stream_lengths(redis_url) == events_before


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_over_the_limit_is_413(
    client: httpx.Client, user_id: int, method: str, path: str
) -> None:
    body = b'{"telegram_id": 1, "command": "' + b"x" * 10_000_000 + b'"}'
    response = send(client, method, path, body, user_id)
    assert response.status_code == 413 and "4096 bytes" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_over_the_limit_without_a_token_is_401_and_never_read(
    client: httpx.Client, user_id: int, method: str, path: str
) -> None:
    body = b'{"telegram_id": 1, "command": "' + b"x" * 10_000_000 + b'"}'
    request = client.build_request(
        method, path.format(id=user_id), content=body, headers={"content-type": "application/json"}
    )
    del request.headers["authorization"]
    response = client.send(request)
    assert response.status_code == 401 and response.headers["connection"] == "close"


def test_an_overlong_command_is_422(client: httpx.Client) -> None:
    too_long = {"command": "x" * 65, "args": [], "user_id": 1}
    too_many = {"command": "/x", "args": ["a"] * 33, "user_id": 1}
    for body in (too_long, too_many):
        assert_client_error(client.post("/debug/command", json=body), 422)


def test_unknown_paths_and_methods_are_json_errors(client: httpx.Client) -> None:
    assert_client_error(client.get("/nowhere"), 404)
    for path, methods in (("/users", {"GET", "POST"}), ("/users/1", {"GET", "PUT", "DELETE"})):
        response = client.patch(path)
        assert_client_error(response, 405)
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed - {"HEAD"} == methods


def _stream_lengths(redis_url: str) -> tuple[int, int]:
    with Redis.from_url(redis_url) as redis:
        return redis.xlen(USER_REGISTERED.stream), redis.xlen(COMMAND_RECEIVED.stream)
