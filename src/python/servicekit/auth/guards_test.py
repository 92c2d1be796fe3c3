"""Guards on a small hardened app: the caller is checked before the body is read, so only a caller
who may call an operation learns its body's limit and schema from a 413, 415 or 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from servicekit.api import harden
from servicekit.auth import Authenticator, Principal, TokenVerifier
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer
from servicekit.strict_json import StrictJSONRoute

pytestmark = pytest.mark.asyncio

LIMIT = 1000
AUDIENCE = "notes"
ADMIN = bearer(AUDIENCE)
USER_7 = bearer(AUDIENCE, "user", subject="7")
JSON = {"content-type": "application/json"}
OVERSIZE = b'{"text": "' + b"x" * 2 * LIMIT + b'"}'
NOT_JSON = b'{"text": "truncated'


class Note(BaseModel):
    text: str


class CountingVerifier(TokenVerifier):
    """Counts verifications: a request's token is verified once."""

    verified = 0

    def verify(self, token: str) -> Principal:
        CountingVerifier.verified += 1
        return super().verify(token)


# Module names: the routes' annotations are strings, resolved in the module's namespace.
AUTH = Authenticator(CountingVerifier(TEST_KEYS, audience=AUDIENCE))
admin = AUTH.guard(roles=["admin"])
admin_or_owner = AUTH.guard(roles=["admin"], owner="owner_id")
owner_only = AUTH.guard(owner="owner_id")
public = AUTH.guard(public=True)


def notes_app() -> FastAPI:
    router = APIRouter(route_class=StrictJSONRoute)

    @router.post("/notes")
    async def add(note: Note, principal: Annotated[Principal, Depends(admin)]) -> Note:
        return note

    @router.put("/owners/{owner_id}/note")
    async def put(
        owner_id: str, note: Note, principal: Annotated[Principal, Depends(admin_or_owner)]
    ) -> str:
        return principal.subject

    @router.get("/owners/{owner_id}/note")
    async def get(owner_id: str, principal: Annotated[Principal, Depends(owner_only)]) -> str:
        return principal.subject

    @router.post("/public/notes")
    async def add_public(
        note: Note, principal: Annotated[Principal | None, Depends(public)]
    ) -> str | None:
        return None if principal is None else principal.subject

    app = FastAPI()
    harden(app, max_body_bytes=LIMIT)
    app.include_router(router)
    return app


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=notes_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _streamed_oversize() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
    for start in range(0, len(OVERSIZE), 100):
        yield OVERSIZE[start : start + 100]


BAD_BODIES = {
    "oversize": (OVERSIZE, JSON, 413),
    "oversize, streamed": (None, JSON, 413),
    "not declared JSON": (b'{"text": "a"}', {"content-type": "text/plain"}, 415),
    "no content type": (b'{"text": "a"}', {}, 415),
    "invalid JSON": (NOT_JSON, JSON, 422),
    "not a note": (b'{"text": 5}', JSON, 422),
}


async def _send(
    client: httpx.AsyncClient, path: str, body: str, headers: dict[str, str], method: str = "POST"
) -> httpx.Response:
    content, content_headers, _ = BAD_BODIES[body]
    return await client.request(
        method,
        path,
        content=_streamed_oversize() if content is None else content,
        headers={**content_headers, **headers},
    )


@pytest.mark.parametrize("body", BAD_BODIES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="], ids=str
)
async def test_a_caller_without_a_valid_token_gets_401_whatever_the_body(
    client: httpx.AsyncClient, body: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await _send(client, "/notes", body, headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith(f'Bearer realm="{AUDIENCE}"')
    assert "text" not in response.text  # nothing of the schema


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_a_caller_without_the_role_gets_403_whatever_the_body(
    client: httpx.AsyncClient, body: str
) -> None:
    for path, method in (("/notes", "POST"), ("/owners/8/note", "PUT")):
        response = await _send(client, path, body, USER_7, method)
        assert response.status_code == 403, response.text


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_a_caller_who_may_call_learns_what_is_wrong_with_the_body(
    client: httpx.AsyncClient, body: str
) -> None:
    expected = BAD_BODIES[body][2]
    assert (await _send(client, "/notes", body, ADMIN)).status_code == expected
    # The owner, admitted by the path parameter alone; anyone on a public route.
    assert (await _send(client, "/owners/7/note", body, USER_7, "PUT")).status_code == expected
    assert (await _send(client, "/public/notes", body, {})).status_code == expected


async def test_a_declared_oversize_body_is_never_read_and_closes_the_connection(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, ADMIN):
        response = await client.post("/notes", content=OVERSIZE, headers={**JSON, **headers})
        assert response.headers["connection"] == "close"


async def test_the_checked_caller_reaches_the_route_and_its_token_is_verified_once(
    client: httpx.AsyncClient,
) -> None:
    before = CountingVerifier.verified
    response = await client.put("/owners/7/note", json={"text": "a"}, headers=USER_7)
    assert (response.status_code, response.json()) == (200, "7")
    assert CountingVerifier.verified == before + 1
    public = await client.post("/public/notes", json={"text": "a"})
    assert (public.status_code, public.json()) == (200, None)


async def test_an_owner_rule_without_roles_admits_the_owner_alone(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/owners/7/note", headers=USER_7)).json() == "7"
    for headers in (bearer(AUDIENCE, "user", subject="8"), ADMIN):
        refused = await client.get("/owners/7/note", headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": "this operation needs a caller whose subject is the owner_id"
        }
    refused = await client.put("/owners/8/note", json={"text": "a"}, headers=USER_7)
    assert refused.json() == {
        "detail": "this operation needs one of the roles: admin, or a caller whose subject is the owner_id"
    }
