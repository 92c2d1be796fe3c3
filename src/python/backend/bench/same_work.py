"""Checks that the benchmarked apps do the same work: the same answers to the same requests, the
same events on their streams, every created user's event relayed and none left in the outbox."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.persistence import async_driver_url
from backend.bench.handwritten_app import STREAM_MAX_LENGTH
from servicekit.auth import SigningKey, mint_token
from servicekit.events.envelope import decode_entry

STREAM = "events.user_registered"
AUDIENCE = "backend"


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens for the apps, signed with the key whose public part both check them with."""

    key: SigningKey

    @property
    def admin(self) -> str:
        return mint_token(self.key, "bench-admin", ["admin"], AUDIENCE)

    @property
    def service(self) -> str:
        return mint_token(self.key, "bench", ["service"], AUDIENCE)

    def user(self, user_id: int) -> str:
        return mint_token(self.key, str(user_id), [], AUDIENCE)


@dataclass(frozen=True)
class App:
    name: str
    url: str
    database_url: str
    stream_prefix: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the app's process has used so far (user and system, all its threads)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def stream(self) -> str:
        return self.stream_prefix + STREAM


def check_same_answers(apps: list[App], tokens: Tokens, existing_user: int, redis_url: str) -> None:
    """The same requests to each app: the same statuses, bodies (but for timestamps and error
    wording) and events."""
    telegram_id = random.randrange(10**15, 2 * 10**15)
    requests = [
        ("POST", "/users", {"telegram_id": telegram_id}, tokens.service),
        ("POST", "/users", {"telegram_id": telegram_id}, tokens.service),  # taken: 409, no event
        ("POST", "/users", {"telegram_id": telegram_id + 1, "is_admin": True}, tokens.admin),
        ("POST", "/users", {"telegram_id": telegram_id + 2, "is_admin": True}, tokens.service),
        ("POST", "/users", {"telegram_id": telegram_id + 3}, None),  # no token: 401
        ("POST", "/users", {"telegram_id": telegram_id + 4}, tokens.user(1)),  # a user: 403
        ("GET", f"/users/{existing_user}", None, tokens.service),
        ("GET", f"/users/{existing_user}", None, tokens.user(existing_user)),  # the owner
        ("GET", f"/users/{existing_user}", None, tokens.user(existing_user + 1)),  # another: 403
        ("GET", f"/users/{existing_user}", None, tokens.user(existing_user) + "x"),  # bad: 401
        ("GET", f"/users/{10**15}", None, tokens.admin),  # none: 404
    ]
    answers = {}
    for app in apps:
        with httpx.Client(base_url=app.url, timeout=30) as client:
            answers[app.name] = [
                _comparable(client.request(method, path, json=body, headers=bearer(token)))
                for method, path, body, token in requests
            ]
    _require_equal("answer", answers)
    for app in apps:
        wait_for_relay(app)
    _require_equal("publish", {app.name: _events(redis_url, app.stream) for app in apps})


def check_every_user_relayed(app: App, redis_url: str) -> None:
    """One event on the stream per user in the table (as far as the stream's retention keeps), and
    none left in the outbox."""
    wait_for_relay(app)
    users = _scalar(app.database_url, "SELECT count(*) FROM users")
    with redis.Redis.from_url(redis_url) as client:
        events = client.xlen(app.stream)
    # XADD MAXLEN ~ trims whole nodes: at least the maximum stays.
    if events != users and not (users > STREAM_MAX_LENGTH and events >= STREAM_MAX_LENGTH):
        sys.exit(f"bench_api: the {app.name} app holds {users} users but published {events} events")


def wait_for_relay(app: App, timeout: float = 120) -> float:
    """Seconds until the app's outbox is empty: its relay has published every committed event."""
    start = time.monotonic()
    while _scalar(app.database_url, "SELECT count(*) FROM event_outbox"):
        if time.monotonic() - start > timeout:
            sys.exit(f"bench_api: the {app.name} app's outbox is not empty after {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


TRACE_HEADERS = {"traceparent", "tracestate"}


def _comparable(response: httpx.Response) -> tuple[int, object]:
    if response.status_code >= 400:  # the same status; the wording may differ
        return response.status_code, None
    return response.status_code, _without_timestamps(response.json())


def _events(redis_url: str, stream: str) -> list[tuple[object, list[str]]]:
    """The stream's events: payloads (but for timestamps) and header names (but for the trace
    context, which only a traced app sends)."""
    with redis.Redis.from_url(redis_url) as client:
        entries = client.xrange(stream)
    events = []
    for entry_id, fields in entries:
        payload, headers, _ = decode_entry(entry_id, fields)
        names = sorted(name for name in headers if name not in TRACE_HEADERS)
        events.append((_without_timestamps(json.loads(payload)), names))
    return events


def _without_timestamps(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if not key.endswith("_at")}
    return body


def _require_equal(what: str, by_app: dict[str, Any]) -> None:
    first, *others = by_app.items()
    for name, value in others:
        if value != first[1]:
            sys.exit(
                f"bench_api: the apps {what} differently:\n{first[0]}: {first[1]}\n{name}: {value}"
            )


def _scalar(database_url: str, query: str) -> int:
    async def fetch() -> int:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(text(query))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(fetch())
