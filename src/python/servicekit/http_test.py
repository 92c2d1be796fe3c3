"""ServiceClient: retries with exponential backoff, ApiError for answers retrying cannot fix."""

from __future__ import annotations

import asyncio
from typing import Callable, List

import httpx
import pytest

from servicekit.http import ApiError, ServiceClient


def _client(handler: Callable[[httpx.Request], httpx.Response], retries: int = 3) -> ServiceClient:
    return ServiceClient(
        "http://service", retries=retries, backoff=0.1, transport=httpx.MockTransport(handler)
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    recorded: List[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return recorded


def _answers(*outcomes: object) -> Callable[[httpx.Request], httpx.Response]:
    remaining = list(outcomes)

    def handler(request: httpx.Request) -> httpx.Response:
        outcome = remaining.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, httpx.Response)
        return outcome

    return handler


@pytest.mark.asyncio
async def test_connection_errors_and_5xx_are_retried_with_exponential_backoff(
    sleeps: List[float],
) -> None:
    handler = _answers(
        httpx.ConnectError("refused"),
        httpx.Response(503),
        httpx.Response(502),
        httpx.Response(200, json=[1]),
    )
    async with _client(handler) as client:
        response = await client.request("GET", "/things")
    assert response.json() == [1]
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])


@pytest.mark.asyncio
async def test_the_last_failure_is_raised(sleeps: List[float]) -> None:
    async with _client(
        _answers(*[httpx.Response(500, json={"detail": "down"})] * 2), retries=1
    ) as client:
        with pytest.raises(ApiError) as raised:
            await client.request("GET", "/")
    assert (raised.value.status_code, raised.value.detail) == (500, "down")
    async with _client(_answers(*[httpx.ConnectError("refused")] * 2), retries=1) as client:
        with pytest.raises(httpx.ConnectError):
            await client.request("GET", "/")


@pytest.mark.asyncio
async def test_client_errors_raise_at_once(sleeps: List[float]) -> None:
    async with _client(_answers(httpx.Response(409, text="taken"))) as client:
        with pytest.raises(ApiError) as raised:
            await client.request("POST", "/", json={"a": 1})
    assert (raised.value.status_code, raised.value.detail, sleeps) == (409, "taken", [])


@pytest.mark.asyncio
async def test_unset_query_parameters_are_left_out() -> None:
    seen: List[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    async with _client(handler) as client:
        await client.request("GET", "/things", params={"limit": 5, "tier": None})
    assert seen == ["http://service/things?limit=5"]
