"""The controller: welcomes, registers on /start, answers a repeated /start kindly, else helps."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from generated.models import CommandReceived, UserRegisteredEvent
from generated.tg_bot.clients import BackendUsersClient
from servicekit.http import ApiError
from tg_bot.fake_telegram import FakeTelegram
from tg_bot.notifications import ALREADY_REGISTERED, HELP, WELCOME, Notifications
from tg_bot.telegram import TelegramApi

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def users_backend(status_by_telegram_id: dict[int, int]) -> httpx.MockTransport:
    """POST /users answering 201, or the status given for that telegram_id."""

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

    return httpx.MockTransport(answer)


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
