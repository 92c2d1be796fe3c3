"""The app as a whole: /health against a live and a dead database, the served OpenAPI document."""

from __future__ import annotations

import httpx
import pytest

from backend.app import TITLE, VERSION, create_app
from generated.backend import debug, users
from servicekit.api import merge_openapi

pytestmark = pytest.mark.asyncio

NO_REDIS_NEEDED = "redis://127.0.0.1:6379"  # nothing here publishes


def client_for(database_url: str) -> httpx.AsyncClient:
    app = create_app(database_url, NO_REDIS_NEEDED, health_timeout=1.0)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend")


async def test_health_is_ok_with_the_database_up(database_url: str) -> None:
    async with client_for(database_url) as client:
        response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql://postgres@127.0.0.1:1/none",
        "postgresql://postgres@10.255.255.1:5432/unroutable",
    ],
    ids=["refused", "timeout"],
)
async def test_health_is_503_with_a_reason_while_the_database_is_down(database_url: str) -> None:
    async with client_for(database_url) as client:
        for _ in range(2):  # the app keeps answering
            response = await client.get("/health")
            assert response.status_code == 503
            body = response.json()
            assert body["status"] == "unavailable" and body["reason"].startswith(
                "database unavailable"
            )


async def test_an_unknown_database_is_503(database_url: str) -> None:
    async with client_for(database_url.rsplit("/", 1)[0] + "/no_such_database") as client:
        response = await client.get("/health")
    assert response.status_code == 503 and "no_such_database" in response.json()["reason"]


async def test_openapi_json_and_docs_serve_the_generated_document() -> None:
    async with client_for("postgresql://postgres@127.0.0.1:1/none") as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert document == merge_openapi(TITLE, VERSION, [users.OPENAPI, debug.OPENAPI])
    assert docs.status_code == 200 and "/openapi.json" in docs.text


async def test_behind_a_proxy_prefix_docs_load_the_document_through_the_prefix() -> None:
    app = create_app(
        "postgresql://postgres@127.0.0.1:1/none", NO_REDIS_NEEDED, root_path="/backend"
    )
    # The proxy strips its prefix: requests arrive as /docs, /openapi.json.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://proxy"
    ) as client:
        docs = await client.get("/docs")
        document = (await client.get("/openapi.json")).json()
    assert "url: '/backend/openapi.json'" in docs.text
    assert document["servers"] == [{"url": "/backend"}]
    assert "/users" in document["paths"]
