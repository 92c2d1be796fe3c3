"""serve_spec_openapi: the merged fragments become the app's /openapi.json."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from servicekit.api import merge_openapi, serve_spec_openapi

USERS = {
    "paths": {
        "/users": {
            "get": {"operationId": "list_users", "responses": {"200": {"description": "ok"}}}
        }
    },
    "components": {"schemas": {"User": {"type": "object"}}},
}
ORDERS = {
    "paths": {
        "/orders": {
            "post": {"operationId": "create_order", "responses": {"201": {"description": "ok"}}}
        }
    },
    "components": {"schemas": {"User": {"type": "object"}, "Order": {"type": "object"}}},
}


def test_merge_combines_paths_and_schemas() -> None:
    merged = merge_openapi("shop", "1.0", [USERS, ORDERS])
    assert merged["info"] == {"title": "shop", "version": "1.0"}
    assert list(merged["paths"]) == ["/users", "/orders"]
    assert list(merged["components"]["schemas"]) == ["Order", "User"]


def test_merge_rejects_conflicts() -> None:
    with pytest.raises(ValueError, match="GET /users"):
        merge_openapi("shop", "1.0", [USERS, USERS])
    different_user = {"components": {"schemas": {"User": {"type": "string"}}}}
    with pytest.raises(ValueError, match="User"):
        merge_openapi("shop", "1.0", [USERS, different_user])


@pytest.mark.asyncio
async def test_app_serves_the_merged_document() -> None:
    app = FastAPI()
    serve_spec_openapi(app, "shop", "1.0", [USERS, ORDERS])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/openapi.json")).json() == merge_openapi(
            "shop", "1.0", [USERS, ORDERS]
        )
