"""Each request gets an id, an access line naming its spec operation and route template, and its
Prometheus series; a hostile request id cannot get into the lines."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client import REGISTRY

from servicekit.api import harden
from servicekit.auth import Authenticator, Principal, TokenVerifier
from servicekit.auth.tokens import mint_token
from servicekit.auth.tokens_testutil import TEST_KEYS, TEST_SIGNING_KEY
from servicekit.logs import formatter
from servicekit.strict_json import StrictJSONRoute

pytestmark = pytest.mark.asyncio

# At module level: the route's annotations are read from the module (postponed evaluation).
guard = Authenticator(TokenVerifier(TEST_KEYS, audience="test")).guard(public=True)


def users_app() -> FastAPI:
    app = FastAPI()
    harden(app)
    router = APIRouter(route_class=StrictJSONRoute)

    @router.get("/users/{user_id}", operation_id="get_user")
    async def get_user(
        user_id: int, principal: Annotated[Principal | None, Depends(guard)]
    ) -> dict[str, int]:
        logging.getLogger("controller").info("reading the user")
        return {"id": user_id}

    app.include_router(router)
    return app


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=users_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def lines() -> Iterator[list[str]]:
    """The JSON lines of the access logger and the controller's."""
    captured: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(self.format(record))

    handler = Capture()
    handler.setFormatter(formatter([], "json"))
    loggers = [logging.getLogger("servicekit.access"), logging.getLogger("controller")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield captured
    for logger in loggers:
        logger.removeHandler(handler)


def count(operation: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "http_requests_total", {"operation": operation, "status": status}
    )
    return value or 0.0


async def test_a_request_is_logged_with_its_id_operation_route_and_subject(
    client: httpx.AsyncClient, lines: list[str]
) -> None:
    token = mint_token(TEST_SIGNING_KEY, "user-7", ["user"], "test")
    response = await client.get(
        "/users/7", headers={"X-Request-ID": "req-42", "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-42"
    controller, access = (json.loads(line) for line in lines)
    assert controller["event"] == "reading the user"
    assert access["event"] == "GET /users/{user_id} 200"
    for line in (controller, access):
        assert line["request_id"] == "req-42"
        assert line["operation"] == "get_user" and line["subject"] == "user-7"
    assert access["route"] == "/users/{user_id}" and access["status"] == 200
    assert access["duration_ms"] > 0 and access["method"] == "GET"
    assert token not in "".join(lines)


async def test_requests_are_counted_by_operation_and_status_class(
    client: httpx.AsyncClient,
) -> None:
    before = count("get_user", "2xx"), count("get_user", "4xx"), count("unmatched", "4xx")
    await client.get("/users/1")
    await client.get("/users/1")
    await client.get("/users/not-a-number")
    await client.get("/no/such/route/123")
    after = count("get_user", "2xx"), count("get_user", "4xx"), count("unmatched", "4xx")
    assert [b - a for a, b in zip(before, after)] == [2, 1, 1]
    assert REGISTRY.get_sample_value("http_requests_in_flight", {"operation": "get_user"}) == 0
    assert (
        REGISTRY.get_sample_value("http_request_duration_seconds_count", {"operation": "get_user"})
        or 0
    ) >= 3


@pytest.mark.parametrize(
    "hostile",
    ["x" * 10_000, 'a" , "level": "critical', "two words", "", "é"],
)
async def test_a_hostile_request_id_is_replaced_by_a_fresh_one(
    client: httpx.AsyncClient, lines: list[str], hostile: str
) -> None:
    response = await client.get("/users/1", headers=[(b"X-Request-ID", hostile.encode())])
    request_id = response.headers["X-Request-ID"]
    assert request_id != hostile and len(request_id) == 32
    access = json.loads(lines[-1])
    assert access["request_id"] == request_id and len(lines[-1]) < 1000
