"""ServiceClient against real HTTP servers (uvicorn, or a socket that never answers): what it
sends again, after how long, and what it never repeats."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from servicekit.http import ApiError, ServiceClient


@dataclass
class Answer:
    status: int
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]


class ScriptedApp:
    """An ASGI app answering each request with the next of `answers` (the last one repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.seen: list[Seen] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.seen.append(
            Seen(scope["method"], scope["path"], scope["query_string"].decode(), headers)
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        response_headers = [(b"content-type", b"application/json")]
        response_headers += [
            (name.encode(), value.encode()) for name, value in answer.headers.items()
        ]
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": answer.body})


def _bound_socket() -> socket.socket:
    """A socket bound to a free port and not yet listening: connections to it are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serving(app: ScriptedApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serves `app` with uvicorn on `sock` (a fresh one by default); yields its base URL."""
    sock = sock or _bound_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield _url(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def hung_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads requests and never answers; yields its URL and what it received."""
    received: list[bytes] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        await asyncio.Event().wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.close()


def _client(url: str, **options: Any) -> ServiceClient:
    return ServiceClient(url, **{"backoff": 0.01, **options})


UNAVAILABLE = Answer(503, b'{"detail": "down"}')
OK = Answer(200, b"[1]")


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_idempotent_requests_are_sent_again_after_502_503_504(method: str) -> None:
    app = ScriptedApp(Answer(502), Answer(503), Answer(504), OK)
    async with serving(app) as url, _client(url, retries=3) as client:
        response = await client.request(method, "/things")
    assert response.status_code == 200
    assert [seen.method for seen in app.seen] == [method] * 4


@pytest.mark.asyncio
async def test_the_retries_are_bounded_and_the_last_answer_raised() -> None:
    app = ScriptedApp(UNAVAILABLE)
    async with serving(app) as url, _client(url, retries=2) as client:
        with pytest.raises(ApiError) as raised:
            await client.request("GET", "/things")
    assert (raised.value.status_code, raised.value.detail) == (503, "down")
    assert len(app.seen) == 3


@pytest.mark.asyncio
async def test_the_waits_grow_exponentially() -> None:
    app = ScriptedApp(UNAVAILABLE)
    async with serving(app) as url, _client(url, retries=3, backoff=0.1) as client:
        started = time.monotonic()
        with pytest.raises(ApiError):
            await client.request("GET", "/")
        elapsed = time.monotonic() - started
    # 0.1 + 0.2 + 0.4 s, each plus up to 0.1 s of jitter.
    assert 0.7 <= elapsed < 3


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 501, 400, 404, 409, 422])
async def test_other_answers_raise_at_once(status: int) -> None:
    app = ScriptedApp(Answer(status, b'{"detail": "no"}'), OK)
    async with serving(app) as url, _client(url) as client:
        with pytest.raises(ApiError) as raised:
            await client.request("GET", "/")
    assert (raised.value.status_code, raised.value.detail, len(app.seen)) == (status, "no", 1)


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_non_idempotent_request_is_never_sent_twice(method: str) -> None:
    app = ScriptedApp(UNAVAILABLE, OK)
    async with serving(app) as url, _client(url) as client:
        with pytest.raises(ApiError) as raised:
            await client.request(method, "/orders", json={"a": 1})
    assert (raised.value.status_code, len(app.seen)) == (503, 1)


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_with_an_idempotency_key_it_is_sent_again_with_the_same_key(method: str) -> None:
    app = ScriptedApp(UNAVAILABLE, Answer(201, b'{"id": 7}'))
    async with serving(app) as url, _client(url) as client:
        response = await client.request(
            method, "/orders", json={"a": 1}, headers={"Idempotency-Key": "order-42"}
        )
    assert response.json() == {"id": 7}
    assert [seen.headers["idempotency-key"] for seen in app.seen] == ["order-42", "order-42"]


@pytest.mark.asyncio
async def test_a_key_still_in_use_is_asked_again_and_a_conflict_is_final() -> None:
    """409 with Retry-After: the key's first request still runs, and a repeat gets its answer;
    a 409 without (a unique key taken) is the answer."""
    app = ScriptedApp(Answer(409, headers={"Retry-After": "0"}), Answer(201, b'{"id": 7}'))
    async with serving(app) as url, _client(url) as client:
        response = await client.request(
            "POST", "/orders", json={"a": 1}, headers={"Idempotency-Key": "order-42"}
        )
    assert response.json() == {"id": 7} and len(app.seen) == 2


@pytest.mark.asyncio
async def test_retry_after_is_honoured() -> None:
    app = ScriptedApp(Answer(503, headers={"Retry-After": "1"}), OK)
    async with serving(app) as url, _client(url) as client:
        started = time.monotonic()
        await client.request("GET", "/")
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3
    assert len(app.seen) == 2


@pytest.mark.asyncio
async def test_retry_after_as_an_http_date_is_honoured() -> None:
    date = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds
    app = ScriptedApp(Answer(503, headers={"Retry-After": date}), OK)
    async with serving(app) as url, _client(url) as client:
        await client.request("GET", "/")
    not_before = email.utils.parsedate_to_datetime(date).timestamp()
    assert not_before <= time.time() < not_before + 1
    assert len(app.seen) == 2


@pytest.mark.asyncio
async def test_a_retry_after_beyond_max_wait_gives_up_at_once() -> None:
    app = ScriptedApp(Answer(503, b'{"detail": "maintenance"}', {"Retry-After": "3600"}), OK)
    async with serving(app) as url, _client(url, max_wait=5) as client:
        started = time.monotonic()
        with pytest.raises(ApiError) as raised:
            await client.request("GET", "/")
    assert (raised.value.status_code, raised.value.detail, len(app.seen)) == (503, "maintenance", 1)
    assert time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_a_hung_server_times_out_each_attempt_and_the_retries_are_bounded() -> None:
    async with hung_server() as (url, received), _client(url, timeout=0.2, retries=2) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.request("GET", "/")
        elapsed = time.monotonic() - started
    assert len(received) == 3
    assert elapsed < 3 * 0.2 + 2


@pytest.mark.asyncio
async def test_a_post_to_a_hung_server_is_not_sent_again() -> None:
    async with hung_server() as (url, received), _client(url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.request("POST", "/orders", json={"a": 1})
    assert len(received) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_refused_connection_is_retried_as_the_request_never_left(method: str) -> None:
    """The server starts listening during the backoff: the request then arrives, once."""
    sock = _bound_socket()
    app = ScriptedApp(OK)

    async def start_later() -> None:
        await asyncio.sleep(0.05)
        async with serving(app, sock):
            while not app.seen:
                await asyncio.sleep(0.01)

    server = asyncio.create_task(start_later())
    async with _client(_url(sock), retries=6, backoff=0.05) as client:
        response = await client.request(method, "/orders", json={"a": 1})
    await server
    assert response.json() == [1]
    assert len(app.seen) == 1


@pytest.mark.asyncio
async def test_a_refused_connection_raises_after_the_last_retry() -> None:
    sock = _bound_socket()
    async with _client(_url(sock), retries=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.request("GET", "/")
    sock.close()


@pytest.mark.asyncio
async def test_unset_query_parameters_are_left_out() -> None:
    app = ScriptedApp(Answer(204, b""))
    async with serving(app) as url, _client(url) as client:
        await client.request("GET", "/things", params={"limit": 5, "tier": None})
    assert [(seen.path, seen.query) for seen in app.seen] == [("/things", "limit=5")]
