"""Telegram updates become command_received events, by long polling and by webhook alike."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from generated.events import COMMAND_RECEIVED
from generated.models import CommandReceived
from tg_bot.fake_telegram import FakeTelegram
from tg_bot.telegram import TelegramApi
from tg_bot.updates import (
    WEBHOOK_PATH,
    TelegramUpdate,
    command_from_update,
    create_webhook_app,
    poll_updates,
)


class RecordingBus:
    """Stands in for EventBus: what would have been published, with event ids."""

    def __init__(self) -> None:
        self.published: list[tuple[str, CommandReceived, str | None]] = []

    async def publish(
        self, channel: Any, message: CommandReceived, *, event_id: str | None = None
    ) -> str:
        self.published.append((channel.name, message, event_id))
        return event_id or "generated"


def test_a_command_message_becomes_a_command() -> None:
    update = FakeTelegram().user_sends(42, "/start@SpecBot now please")
    update["message"]["date"] = 1_700_000_000
    assert command_from_update(TelegramUpdate.model_validate(update)) == CommandReceived(
        command="/start",
        args=["now", "please"],
        user_id=42,
        timestamp=datetime.fromtimestamp(1_700_000_000, timezone.utc),
    )


@pytest.mark.parametrize("text", ["hello", "", "   "])
def test_other_messages_are_not_commands(text: str) -> None:
    update = TelegramUpdate.model_validate(FakeTelegram().user_sends(42, text))
    assert command_from_update(update) is None
    assert command_from_update(TelegramUpdate(update_id=1)) is None


@pytest.mark.asyncio
async def test_polling_publishes_each_command_once() -> None:
    fake, bus = FakeTelegram(), RecordingBus()
    start = fake.user_sends(42, "/start")["update_id"]
    fake.user_sends(42, "just chatting")
    fake.user_sends(43, "/help")
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            telegram = TelegramApi(api_url, fake.token, http)
            polling = asyncio.create_task(poll_updates(telegram, bus, timeout=1))  # type: ignore[arg-type]
            try:
                for _ in range(200):
                    if len(bus.published) == 2:
                        break
                    await asyncio.sleep(0.01)
                # Later polls confirm the offset and return nothing new.
                await asyncio.sleep(0.2)
            finally:
                polling.cancel()
    assert [(name, message.command, event_id) for name, message, event_id in bus.published] == [
        (COMMAND_RECEIVED.name, "/start", f"telegram-update-{start}"),
        (COMMAND_RECEIVED.name, "/help", f"telegram-update-{start + 2}"),
    ]


@pytest.mark.asyncio
async def test_the_webhook_checks_the_secret_token() -> None:
    bus = RecordingBus()
    app = create_webhook_app(bus, secret="s3cret")  # type: ignore[arg-type]  # a stand-in bus
    update = FakeTelegram().user_sends(42, "/start")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot"
    ) as client:
        missing = await client.post(WEBHOOK_PATH, json=update)
        wrong = await client.post(
            WEBHOOK_PATH,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        )
        right = await client.post(
            WEBHOOK_PATH,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
        )
    assert (missing.status_code, wrong.status_code, right.status_code) == (
        401,
        401,
        200,
    )
    published = [(message.command, event_id) for _, message, event_id in bus.published]
    assert published == [("/start", f"telegram-update-{update['update_id']}")]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"text"', b"{}", b'{"update_id": 1, "message": {"text": "/start"}}'],
)
@pytest.mark.asyncio
async def test_the_webhook_answers_400_to_what_is_not_an_update(body: bytes) -> None:
    bus = RecordingBus()
    app = create_webhook_app(bus, secret="s3cret")  # type: ignore[arg-type]  # a stand-in bus
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://bot"
    ) as client:
        response = await client.post(
            WEBHOOK_PATH,
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
        )
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("not a Telegram update")
    assert bus.published == []
