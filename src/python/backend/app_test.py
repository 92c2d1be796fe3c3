"""The app as a whole: liveness and readiness with dependencies up, down and hung, the served
OpenAPI document and /docs, and what the production profile leaves out."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from fastapi.openapi.utils import get_openapi

from backend.app import TITLE, VERSION, create_app
from backend.settings import DEFAULTS
from generated.backend import debug, users
from servicekit.api import merge_openapi
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

pytestmark = pytest.mark.asyncio

REFUSED_DATABASE = "postgresql://postgres@127.0.0.1:1/none"
REFUSED_REDIS = "redis://127.0.0.1:1"
UNROUTABLE_DATABASE = "postgresql://postgres@10.255.255.1:5432/unroutable"
HEALTH_TIMEOUT = 1.0
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")
DOCS_PATHS = ("/docs", "/openapi.json", "/redoc", "/docs/assets/swagger-ui-bundle.js")


def client_for(database_url: str, redis_url: str, **settings: object) -> httpx.AsyncClient:
    configured = DEFAULTS.model_copy(update={"health_timeout_seconds": HEALTH_TIMEOUT, **settings})
    app = create_app(database_url, redis_url, configured, keys=TEST_KEYS)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://backend", headers=bearer("backend")
    )


async def test_ready_with_the_database_and_redis_up(database_url: str, redis_url: str) -> None:
    async with client_for(database_url, redis_url) as client:
        response = await client.get("/health/ready")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "redis": "ok"}},
    )


@pytest.mark.parametrize(
    "database_url", [REFUSED_DATABASE, UNROUTABLE_DATABASE], ids=["refused", "timeout"]
)
async def test_not_ready_names_the_database_and_says_nothing_of_its_address(
    database_url: str, redis_url: str
) -> None:
    async with client_for(database_url, redis_url) as client:
        for _ in range(2):  # the app keeps answering
            started = time.monotonic()
            response = await client.get("/health/ready")
            assert time.monotonic() - started < HEALTH_TIMEOUT + 0.5
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "1"  # as every other 503
            assert response.json() == {
                "status": "unavailable",
                "checks": {"database": "unavailable", "redis": "ok"},
            }
            assert "127.0.0.1" not in response.text and "10.255" not in response.text
        # Liveness does not depend on the database.
        assert (await client.get("/health/live")).status_code == 200


async def test_not_ready_while_redis_is_down(database_url: str) -> None:
    async with client_for(database_url, REFUSED_REDIS) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}


async def test_an_unknown_database_is_not_ready(database_url: str, redis_url: str) -> None:
    async with client_for(
        database_url.rsplit("/", 1)[0] + "/no_such_database", redis_url
    ) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503 and "no_such_database" not in response.text


async def test_openapi_json_and_docs_serve_the_generated_document() -> None:
    async with client_for(REFUSED_DATABASE, REFUSED_REDIS) as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
        start = await client.get("/docs/start.js")
        assets = [await client.get(f"/docs/assets/{name}") for name in ASSETS]
        redoc = await client.get("/redoc")  # ReDoc would load from a CDN
    assert document == merge_openapi(TITLE, VERSION, [users.OPENAPI, debug.OPENAPI])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert docs.status_code == 200 and '"url": "/openapi.json"' in start.text
    # Swagger UI comes from the app itself, and the page runs no inline script (CSP script-src 'self').
    assert "http" not in docs.text and "<script>" not in docs.text
    assert [asset.status_code for asset in assets] == [200] * len(ASSETS)
    assert redoc.status_code == 404


async def test_the_document_describes_exactly_the_routes_the_app_serves() -> None:
    """A router wired without its fragment, or a fragment without its router, shows here: FastAPI's
    own document of the app's routes has the same operations as the served one."""
    app = create_app(REFUSED_DATABASE, REFUSED_REDIS)
    served = get_openapi(title=TITLE, version=VERSION, routes=app.routes)["paths"]
    documented = app.openapi()["paths"]
    assert {(path, method) for path, item in served.items() for method in item} == {
        (path, method) for path, item in documented.items() for method in item
    }


async def test_behind_a_proxy_prefix_docs_load_the_document_through_the_prefix() -> None:
    # The proxy strips its prefix: requests arrive as /docs, /openapi.json.
    async with client_for(REFUSED_DATABASE, REFUSED_REDIS, root_path="/backend") as client:
        docs = await client.get("/docs")
        start = await client.get("/docs/start.js")
        assets = [await client.get(f"/docs/assets/{name}") for name in ASSETS]
        document = (await client.get("/openapi.json")).json()
    assert '"url": "/backend/openapi.json"' in start.text
    assert [asset.status_code for asset in assets] == [200] * len(ASSETS)
    assert 'src="/backend/docs/assets/swagger-ui-bundle.js"' in docs.text
    assert document["servers"] == [{"url": "/backend"}]
    assert "/users" in document["paths"]


async def test_production_serves_neither_the_debug_domain_nor_docs() -> None:
    async with client_for(REFUSED_DATABASE, REFUSED_REDIS, profile="production") as client:
        command = await client.post("/debug/command", json={"command": "/start", "user_id": 1})
        statuses = [(await client.get(path)).status_code for path in DOCS_PATHS]
    assert command.status_code == 404 and command.json() == {"detail": "Not Found"}
    assert statuses == [404] * len(DOCS_PATHS)


async def test_production_with_docs_enabled_documents_no_debug_domain() -> None:
    async with client_for(
        REFUSED_DATABASE, REFUSED_REDIS, profile="production", docs=True
    ) as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert document == merge_openapi(TITLE, VERSION, [users.OPENAPI])
    assert not any(path.startswith("/debug") for path in document["paths"])
    assert docs.status_code == 200


async def test_not_ready_within_the_timeout_while_redis_hangs(database_url: str) -> None:
    # A listening socket nobody answers on: connections are accepted, no reply ever comes.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        hung_redis = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        async with client_for(database_url, hung_redis) as client:
            for _ in range(2):
                started = time.monotonic()
                response = await client.get("/health/ready")
                assert time.monotonic() - started < HEALTH_TIMEOUT + 0.5
                assert response.status_code == 503
                assert response.json()["checks"] == {"database": "ok", "redis": "unavailable"}
