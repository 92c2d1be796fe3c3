"""TelegramApi against the fake Bot API over real HTTP."""

from __future__ import annotations

import logging

import httpx
import pytest

from tg_bot.fake_telegram import FakeTelegram, SentMessage
from servicekit.events import PermanentFailure, RetryAfter
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


@pytest.mark.parametrize(
    ("status", "description"),
    [(400, "Bad Request: chat not found"), (403, "Forbidden: bot was blocked by the user")],
)
@pytest.mark.asyncio
async def test_a_refused_chat_is_a_permanent_failure(status: int, description: str) -> None:
    fake = FakeTelegram()
    fake.refuse_messages_to(7, status, description)
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            with pytest.raises(PermanentFailure, match=description):
                await TelegramApi(api_url, fake.token, http).send_message(7, "hello")


@pytest.mark.asyncio
async def test_flood_control_says_when_to_retry() -> None:
    fake = FakeTelegram()
    fake.refuse_messages_to(7, 429, "Too Many Requests: retry after 3", retry_after=3, times=1)
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            telegram = TelegramApi(api_url, fake.token, http)
            with pytest.raises(RetryAfter) as raised:
                await telegram.send_message(7, "hello")
            assert raised.value.seconds == 3
            await telegram.send_message(7, "hello")
    assert fake.sent == [SentMessage(7, "hello")]


@pytest.mark.asyncio
async def test_a_gateway_error_page_is_transient() -> None:
    fake = FakeTelegram()
    fake.refuse_messages_to(7, 502, "Bad Gateway")
    with fake.serve() as api_url:
        async with httpx.AsyncClient() as http:
            with pytest.raises(TelegramError, match="HTTP 502") as raised:
                await TelegramApi(api_url, fake.token, http).send_message(7, "hello")
    assert not isinstance(raised.value, (PermanentFailure, RetryAfter))


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
