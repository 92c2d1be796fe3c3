"""The tg_bot process (python -m tg_bot.main) against a Redis of its own, the fake Telegram and a
stand-in backend: welcome on user_registered, /start registers, configuration errors name the variable.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, cast

import pytest
from fastapi import FastAPI, HTTPException

from redis import Redis

from generated.events import USER_REGISTERED
from generated.models import UserCreate, UserRead, UserRegisteredEvent
from servicekit.embedded import embedded_redis
from servicekit.events import EventBus
from servicekit.waiting import free_port
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


def bot_environment(
    redis_url: str, backend_url: str, fake: FakeTelegram, api_url: str
) -> dict[str, str]:
    """A bot on `redis_url`, calling `backend_url` and polling the fake Telegram every second."""
    return {
        "REDIS_URL": redis_url,
        "BACKEND_URL": backend_url,
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_POLL_TIMEOUT": "1",
    }


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
        bot = run_bot(bot_environment(redis_url, backend_url, fake, api_url))
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
    # httpx logged each Bot API call, the token in its URL: the lines show where it was, not what.
    assert "sendMessage" in output and "/bot[redacted]/" in output, output
    assert fake.token not in output, output


def wait_until_consuming(bot: subprocess.Popen[str]) -> str:
    """Reads the bot's output until it consumes events; returns what it read."""
    assert bot.stdout is not None
    lines: list[str] = []
    while "tg_bot consuming" not in (line := bot.stdout.readline()):
        assert line, "".join(lines)
        lines.append(line)
    return "".join(lines) + line


async def publish_registration(redis_url: str, user_id: int) -> None:
    bus = EventBus(redis_url)
    event = UserRegisteredEvent(id=1, telegram_id=user_id, created_at=datetime.now(timezone.utc))
    await bus.publish(USER_REGISTERED, event)
    await bus.stop()


def test_a_blocked_chat_is_dead_lettered_at_once_and_flood_control_is_waited_out(
    telegram: tuple[FakeTelegram, str], redis_url: str
) -> None:
    fake, api_url = telegram
    blocked, limited = 1001, 1002
    fake.refuse_messages_to(blocked, 403, "Forbidden: bot was blocked by the user")
    fake.refuse_messages_to(
        limited, 429, "Too Many Requests: retry after 2", retry_after=2, times=1
    )
    with serve_in_thread(users_app([])) as backend_url:
        # The default retry policy: a blocked chat must not wait for its retries.
        bot = run_bot(bot_environment(redis_url, backend_url, fake, api_url))
        try:
            wait_until_consuming(bot)
            asyncio.run(publish_registration(redis_url, limited))
            asyncio.run(publish_registration(redis_url, blocked))
            started = time.monotonic()
            dead = Redis.from_url(redis_url)
            while not dead.xlen(USER_REGISTERED.dead_letter_stream):
                assert time.monotonic() - started < 3, "not dead-lettered within 3 s"
                time.sleep(0.05)
            # redis-py's sync client is typed as either client: it returns the list here.
            [(_, letter)] = cast(list[Any], dead.xrange(USER_REGISTERED.dead_letter_stream))
            assert b"403 Forbidden: bot was blocked by the user" in letter[b"dead_letter_error"]
            assert fake.wait_for_messages(limited, 1, timeout=10) == [WELCOME]
            assert time.monotonic() - started >= 2 - 0.5  # retry_after, less the time to block
        finally:
            bot.terminate()
            output, _ = bot.communicate(timeout=10)
    assert bot.returncode == 0, output


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_bot_cleanly(
    telegram: tuple[FakeTelegram, str], redis_url: str, mode: str, signum: int
) -> None:
    fake, api_url = telegram
    port = free_port()
    bot = run_bot(
        {
            "REDIS_URL": redis_url,
            "BACKEND_URL": "http://127.0.0.1:9",
            "TELEGRAM_API_URL": api_url,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_POLL_TIMEOUT": "1",
            "TELEGRAM_MODE": mode,
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port),
        }
    )
    started = wait_until_consuming(bot)
    time.sleep(0.5)  # polling, or serving the webhook
    bot.send_signal(signum)
    output, _ = bot.communicate(timeout=15)
    output = started + output
    assert bot.returncode == 0, output
    for unclean in ("ERROR", "Traceback", "CancelledError"):
        assert unclean not in output, output
    assert "tg_bot stopped" in output


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BACKEND_URL"),
        ({"BACKEND_URL": "http://backend", "REDIS_URL": "not a url"}, "REDIS_URL"),
        ({"BACKEND_URL": "http://backend", "REDIS_URL": "http://redis"}, "REDIS_URL"),
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
    assert bot.returncode == 1 and output.startswith("tg_bot: ") and named in output, output
    assert len(output.splitlines()) == 1, output


def test_an_unreachable_redis_is_waited_for_then_start_up_stops_in_one_line() -> None:
    started = time.monotonic()
    bot = run_bot(
        {
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}",
            "BACKEND_URL": "http://backend",
            "STARTUP_TIMEOUT": "2",
        }
    )
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 1, output
    assert time.monotonic() - started >= 2
    waiting, gave_up = output.splitlines()
    assert "Redis (REDIS_URL) does not answer" in waiting and "retrying for up to 2s" in waiting
    assert gave_up.startswith("tg_bot: Redis (REDIS_URL) did not answer within 2s: Connection")


def test_a_hung_redis_is_given_up_on_like_an_unreachable_one() -> None:
    with socket.socket() as hung:  # accepts connections (the backlog) and never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        started = time.monotonic()
        bot = run_bot(
            {
                "REDIS_URL": f"redis://127.0.0.1:{hung.getsockname()[1]}",
                "BACKEND_URL": "http://backend",
                "STARTUP_TIMEOUT": "2",
            }
        )
        output, _ = bot.communicate(timeout=60)
    assert bot.returncode == 1, output
    assert time.monotonic() - started < 20, output
    waiting, gave_up = output.splitlines()
    assert "Redis (REDIS_URL) does not answer (TimeoutError" in waiting
    assert gave_up.startswith("tg_bot: Redis (REDIS_URL) did not answer within 2s: TimeoutError")


def test_start_up_goes_on_when_redis_answers_in_time() -> None:
    port = free_port()
    bot = run_bot(
        {
            "REDIS_URL": f"redis://127.0.0.1:{port}",
            "BACKEND_URL": "http://backend",
            "STARTUP_TIMEOUT": "30",
        }
    )
    try:
        assert bot.stdout is not None
        assert "does not answer" in bot.stdout.readline()
        with embedded_redis(port):
            wait_until_consuming(bot)
            bot.terminate()
            output, _ = bot.communicate(timeout=10)
    finally:
        bot.kill()
    assert bot.returncode == 0, output
