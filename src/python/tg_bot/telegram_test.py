"""TelegramApi against the fake Bot API over real HTTP."""

from __future__ import annotations

import logging

import httpx
import pytest

from tg_bot.fake_telegram import FakeTelegram, SentMessage
from tg_bot.telegram import TelegramApi, TelegramError


@pytest.mark.asyncio
async def test_send_message_and_get_updates_over_http() -> None:
    fake = FakeTelegram()
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            telegram = TelegramApi(api_url, fake.token, http)
            await telegram.send_message(42, "hello")
            fake.user_sends(42, "/start")
            fake.user_sends(43, "/help")
            updates = await telegram.get_updates(None, timeout=0)
            assert [update["message"]["text"] for update in updates] == [
                "/start",
                "/help",
            ]
            assert await telegram.get_updates(updates[-1]["update_id"] + 1, timeout=0) == []
    assert fake.sent == [SentMessage(42, "hello")]


@pytest.mark.asyncio
async def test_an_error_answer_raises() -> None:
    fake = FakeTelegram()
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            with pytest.raises(TelegramError, match="401"):
                await TelegramApi(api_url, "wrong-token", http).send_message(42, "hello")


@pytest.mark.asyncio
async def test_without_a_token_messages_are_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        telegram = TelegramApi("https://api.telegram.org", None, http)
        with caplog.at_level(logging.INFO):
            await telegram.send_message(42, "hello")
    assert not telegram.enabled
    assert "would send to 42: hello" in caplog.text
