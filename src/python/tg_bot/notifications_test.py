"""The controller: welcomes, registers on /start, answers a repeated /start kindly, else helps."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from generated.models import CommandReceived, UserRegisteredEvent
from generated.tg_bot.clients import BackendUsersClient
from servicekit.events import handling_event
from servicekit.http import ApiError
from tg_bot.fake_telegram import FakeTelegram
from tg_bot.notifications import ALREADY_REGISTERED, HELP, WELCOME, Notifications
from tg_bot.telegram import TelegramApi

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def users_backend(status_by_telegram_id: dict[int, int]) -> httpx.MockTransport:
    """POST /users answering 201, or the status given for that telegram_id."""
    return httpx.MockTransport(users_answer(status_by_telegram_id))


def users_answer(
    status_by_telegram_id: dict[int, int],
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/users")
        telegram_id = json.loads(request.content)["telegram_id"]
        status = status_by_telegram_id.get(telegram_id, 201)
        if status != 201:
            return httpx.Response(status, json={"detail": "nope"})
        user = {
            "id": 1,
            "telegram_id": telegram_id,
            "is_admin": False,
            "created_at": NOW.isoformat(),
        }
        return httpx.Response(201, json={**user, "updated_at": NOW.isoformat()})

    return answer


def command(text: str, user_id: int = 42) -> CommandReceived:
    name, *args = text.split()
    return CommandReceived(command=name, args=args, user_id=user_id, timestamp=NOW)


@pytest.mark.asyncio
async def test_commands_and_welcomes() -> None:
    fake = FakeTelegram()
    backend = users_backend({7: 409, 8: 422})
    with fake.serve() as api_url:
        users = BackendUsersClient("http://backend", transport=backend)
        async with httpx.AsyncClient() as http:
            bot = Notifications(TelegramApi(api_url, fake.token, http), users)
            await bot.handle_command(command("/start", user_id=42))
            # Not greeted yet: welcome_user does that, on the backend's user_registered.
            assert fake.messages_to(42) == []
            await bot.welcome_user(UserRegisteredEvent(id=1, telegram_id=42, created_at=NOW))
            await bot.handle_command(command("/start", user_id=7))
            await bot.handle_command(command("/weather tomorrow", user_id=9))
            # Any other error is left to the bus: retried, then dead-lettered.
            with pytest.raises(ApiError):
                await bot.handle_command(command("/start", user_id=8))
        await users.aclose()
    assert fake.messages_to(42) == [WELCOME]
    assert fake.messages_to(7) == [ALREADY_REGISTERED]
    assert fake.messages_to(9) == [HELP]


@pytest.mark.asyncio
async def test_registration_is_retried_with_one_key_and_a_redelivery_sends_it_again() -> None:
    """The backend's 503 is retried (safe: the POST carries an Idempotency-Key, the same on every
    attempt), and the same command delivered again sends the same key: one registration."""
    keys: list[str] = []
    answers = iter([503, 201, 201])
    registered = users_answer({})

    def flaky(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        status = next(answers)
        return httpx.Response(503) if status == 503 else registered(request)

    fake = FakeTelegram()
    with fake.serve() as api_url:
        users = BackendUsersClient(
            "http://backend", transport=httpx.MockTransport(flaky), backoff=0.01
        )
        async with httpx.AsyncClient() as http:
            bot = Notifications(TelegramApi(api_url, fake.token, http), users)
            for _ in range(2):  # the event, and the event delivered again
                with handling_event("event-1"):
                    await bot.handle_command(command("/start"))
        await users.aclose()
    assert len(keys) == 3 and len(set(keys)) == 1
