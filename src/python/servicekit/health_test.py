"""/health/live and /health/ready over real HTTP requests to the ASGI app."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from servicekit.health import Check, add_health_routes


async def ok() -> None:
    return None


async def refused() -> None:
    raise ConnectionRefusedError("10.0.0.7:5432")


async def hung() -> None:
    await asyncio.Event().wait()


async def get(checks: dict[str, Check], path: str) -> httpx.Response:
    app = FastAPI()
    add_health_routes(app, checks, timeout=0.2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path)


@pytest.mark.asyncio
async def test_a_service_without_dependencies_is_ready_when_it_serves() -> None:
    response = await get({}, "/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


@pytest.mark.asyncio
async def test_ready_names_each_dependency_down_or_hung_and_not_how() -> None:
    response = await get({"database": refused, "redis": hung, "cache": ok}, "/health/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "redis": "unavailable", "cache": "ok"},
    }
    assert "10.0.0.7" not in response.text


@pytest.mark.asyncio
async def test_live_answers_whatever_the_dependencies_do() -> None:
    response = await get({"database": refused}, "/health/live")
    assert response.status_code == 200
