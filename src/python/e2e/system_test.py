"""Both services as separate processes against the real PostgreSQL and Redis, with a fake Telegram.

POST /users on the backend -> welcome sendMessage within 2 s; /start from Telegram -> a user row.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import redis

from e2e.processes import REDIS_URL, start_service, stop_service, wait_until_answering
from servicekit.waiting import free_port
from tg_bot.fake_telegram import FakeTelegram
from servicekit.auth.tokens_testutil import (
    TEST_AUTH_JWKS,
    TEST_SERVICE_AUTH_SIGNING_KEY,
    bearer,
)

ADMIN = bearer("backend")


@dataclass
class System:
    backend_url: str
    database_url: str
    telegram: FakeTelegram


@pytest.fixture(scope="module")
def system(database_url: str, stream_prefix: str) -> Iterator[System]:
    telegram = FakeTelegram()
    backend_port = free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    backend_env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "BACKEND_EMBEDDED": "false",
        "BACKEND_HOST": "127.0.0.1",
        "BACKEND_PORT": str(backend_port),
        "EVENTS_STREAM_PREFIX": stream_prefix,
        "AUTH_JWKS": TEST_AUTH_JWKS,
    }
    # As Compose does: the pre-start step migrates, then the replica serves.
    prestart = start_service("backend.prestart", backend_env)
    output, _ = prestart.communicate(timeout=120)
    assert prestart.returncode == 0, output
    with telegram.serve() as telegram_url:
        backend = start_service("backend.main", backend_env)
        bot = start_service(
            "tg_bot.main",
            {
                "REDIS_URL": REDIS_URL,
                "BACKEND_URL": backend_url,
                "TELEGRAM_API_URL": telegram_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_POLL_TIMEOUT": "1",
                "EVENTS_STREAM_PREFIX": stream_prefix,
                # Its own key, which the backend admits for the role service only.
                "AUTH_SIGNING_KEY": TEST_SERVICE_AUTH_SIGNING_KEY,
            },
        )
        try:
            wait_until_answering(backend_url, backend)
            yield System(backend_url, database_url, telegram)
        finally:
            outputs = {"tg_bot": stop_service(bot), "backend": stop_service(backend)}
            for name, output in outputs.items():
                print(f"--- {name} output ---\n{output}")


def new_telegram_id() -> int:
    return uuid.uuid4().int % 10**12


def test_a_registered_user_is_welcomed_within_two_seconds(system: System) -> None:
    telegram_id = new_telegram_id()
    started = time.monotonic()
    response = httpx.post(
        f"{system.backend_url}/users", json={"telegram_id": telegram_id}, headers=ADMIN, timeout=5
    )
    assert response.status_code == 201, response.text
    [welcome] = system.telegram.wait_for_messages(
        telegram_id, 1, timeout=2 - (time.monotonic() - started)
    )
    assert "Welcome" in welcome


def test_the_services_use_only_this_runs_streams(system: System, stream_prefix: str) -> None:
    telegram_id = new_telegram_id()
    response = httpx.post(
        f"{system.backend_url}/users", json={"telegram_id": telegram_id}, headers=ADMIN, timeout=5
    )
    assert response.status_code == 201, response.text
    system.telegram.wait_for_messages(telegram_id, 1)
    with redis.Redis.from_url(REDIS_URL) as client:
        entries = client.xrange(f"{stream_prefix}events.user_registered")
        assert any(str(telegram_id).encode() in fields[b"__data__"] for _, fields in entries)
        # Another run's worker, on the unprefixed stream, never sees this run's events.
        assert not any(
            str(telegram_id).encode() in fields[b"__data__"]
            for _, fields in client.xrange("events.user_registered")
        )


def test_start_from_telegram_registers_the_user(system: System) -> None:
    telegram_id = new_telegram_id()
    system.telegram.user_sends(telegram_id, "/start")
    deadline = time.monotonic() + 10
    while not asyncio.run(user_rows(system.database_url, telegram_id)):
        assert time.monotonic() < deadline, "no user row within 10s"
        time.sleep(0.05)
    assert asyncio.run(user_rows(system.database_url, telegram_id)) == 1
    # The new user is then welcomed (user_registered), and a second /start answered kindly.
    assert "Welcome" in system.telegram.wait_for_messages(telegram_id, 1)[0]
    system.telegram.user_sends(telegram_id, "/start")
    assert "already registered" in system.telegram.wait_for_messages(telegram_id, 2)[1]
    assert asyncio.run(user_rows(system.database_url, telegram_id)) == 1


async def user_rows(database_url: str, telegram_id: int) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM users WHERE telegram_id = $1", telegram_id
            )
        )
    finally:
        await connection.close()
