"""The tg_bot process (python -m tg_bot.main) against a Redis of its own, the fake Telegram and a
stand-in backend: welcome on user_registered, /start registers, configuration errors name the variable.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from fastapi import FastAPI, HTTPException

from generated.events import USER_REGISTERED
from generated.models import UserCreate, UserRead, UserRegisteredEvent
from servicekit.embedded import embedded_redis
from servicekit.events import EventBus
from tg_bot import main as tg_bot_main
from tg_bot.fake_telegram import FakeTelegram, serve_in_thread
from tg_bot.notifications import ALREADY_REGISTERED, HELP, WELCOME
from tg_bot.settings import Settings


def users_app(registered: list[int]) -> FastAPI:
    """Just enough of the backend's POST /users for the bot."""
    app = FastAPI()

    @app.post("/users", status_code=201)
    async def create_user(body: UserCreate) -> UserRead:
        if body.telegram_id in registered:
            raise HTTPException(409, "already registered")
        registered.append(body.telegram_id)
        now = datetime.now(timezone.utc)
        return UserRead(
            id=len(registered),
            telegram_id=body.telegram_id,
            created_at=now,
            updated_at=now,
        )

    return app


def run_bot(env: dict[str, str]) -> subprocess.Popen[str]:
    """tg_bot in a process of its own, configured by `env` only."""
    settings = {name.upper() for name in Settings.model_fields}
    inherited = {name: value for name, value in os.environ.items() if name not in settings}
    return subprocess.Popen(
        [sys.executable, "-m", tg_bot_main.__name__],
        env={**inherited, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis server of this test's own: no other test's events reach its bot, nor its own theirs."""
    with embedded_redis() as url:
        yield url


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with fake.serve() as api_url:
        yield fake, api_url


def test_the_bot_welcomes_and_registers(telegram: tuple[FakeTelegram, str], redis_url: str) -> None:
    fake, api_url = telegram
    registered: list[int] = []
    user_id = int(uuid.uuid4().int % 10**9)
    with serve_in_thread(users_app(registered)) as backend_url:
        bot = run_bot(
            {
                "REDIS_URL": redis_url,
                "BACKEND_URL": backend_url,
                "TELEGRAM_API_URL": api_url,
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_POLL_TIMEOUT": "1",
            }
        )
        try:
            asyncio.run(publish_registration(redis_url, user_id))
            assert fake.wait_for_messages(user_id, 1, timeout=10) == [WELCOME]
            fake.user_sends(user_id + 1, "/start")
            fake.user_sends(user_id + 1, "/start")
            fake.user_sends(user_id + 1, "/settings")
            assert fake.wait_for_messages(user_id + 1, 2, timeout=10) == [
                ALREADY_REGISTERED,
                HELP,
            ]
            assert registered == [user_id + 1]
        finally:
            bot.terminate()
            output, _ = bot.communicate(timeout=10)
    assert bot.returncode == 0, output


async def publish_registration(redis_url: str, user_id: int) -> None:
    bus = EventBus(redis_url)
    event = UserRegisteredEvent(id=1, telegram_id=user_id, created_at=datetime.now(timezone.utc))
    await bus.publish(USER_REGISTERED, event)
    await bus.stop()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BACKEND_URL"),
        ({"BACKEND_URL": "not a url"}, "BACKEND_URL"),
        (
            {"BACKEND_URL": "http://backend", "EVENTS_MAX_FAILURES": "many"},
            "EVENTS_MAX_FAILURES",
        ),
        (
            {"BACKEND_URL": "http://backend", "TELEGRAM_MODE": "webhook"},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    bot = run_bot(env)
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 1 and named in output, output
