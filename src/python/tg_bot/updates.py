"""Telegram updates in: each command a user sends becomes a `command_received` event.

Long polling and the webhook both end in `publish_command`, so the handler path is the same.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import datetime, timezone
from typing import Any

import httpx
from fastapi import FastAPI, Header, HTTPException, Request
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field, ValidationError

from generated.events import COMMAND_RECEIVED
from generated.models import CommandReceived
from servicekit.events import EventBus
from servicekit.logs import log_context
from servicekit.tracing import tracer
from tg_bot.telegram import TelegramApi, TelegramError

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


class TelegramUser(BaseModel):
    id: int


class TelegramMessage(BaseModel):
    date: int
    text: str | None = None
    sender: TelegramUser | None = Field(default=None, alias="from")


class TelegramUpdate(BaseModel):
    """The parts of a Telegram Update the bot reads; the others are ignored."""

    update_id: int
    message: TelegramMessage | None = None


def command_from_update(update: TelegramUpdate) -> CommandReceived | None:
    """The command in a message update (`/start@SomeBot a b` -> `/start`, [a, b]), else None."""
    message = update.message
    words = (message.text or "").split() if message else []
    if message is None or message.sender is None or not words or not words[0].startswith("/"):
        return None
    return CommandReceived(
        command=words[0].split("@", 1)[0],
        args=words[1:],
        user_id=message.sender.id,
        timestamp=datetime.fromtimestamp(message.date, timezone.utc),
    )


async def publish_command(bus: EventBus, update: TelegramUpdate) -> None:
    """Publishes the update's command, if any, once: Telegram may deliver an update again.

    Its lines carry the update's id; its span starts the trace the event carries on."""
    with (
        log_context(update_id=update.update_id),
        tracer.start_as_current_span(
            "telegram update",
            kind=SpanKind.CONSUMER,
            attributes={"telegram.update_id": update.update_id},
        ),
    ):
        command = command_from_update(update)
        if command is not None:
            await bus.publish(
                COMMAND_RECEIVED, command, event_id=f"telegram-update-{update.update_id}"
            )


def parse_update(raw: dict[str, Any]) -> TelegramUpdate | None:
    """A polled update, or None (logged) when it is not one: skipping it beats stopping the bot."""
    try:
        return TelegramUpdate.model_validate(raw)
    except ValidationError as error:
        logger.warning("skipping a malformed update %s: %s", raw.get("update_id"), error)
        return None


async def poll_updates(telegram: TelegramApi, bus: EventBus, timeout: int) -> None:
    """Forever: long-polls getUpdates, publishing commands; the offset confirms what was published."""
    offset: int | None = None
    while True:
        try:
            updates = await telegram.get_updates(offset, timeout)
        except (httpx.HTTPError, TelegramError, ValueError) as error:
            logger.warning("getUpdates failed, retrying in 1s: %s", error)
            await asyncio.sleep(1)
            continue
        for raw in updates:
            update = parse_update(raw)
            if update is not None:
                await publish_command(bus, update)
            offset = raw["update_id"] + 1  # the Bot API's guarantee, even when the rest is odd


def create_webhook_app(bus: EventBus, secret: str) -> FastAPI:
    """An ASGI app receiving Telegram's webhook calls, checking their secret token header."""
    app = FastAPI(title="tg_bot webhook", openapi_url=None)

    @app.post(WEBHOOK_PATH)
    async def receive_update(
        request: Request, x_telegram_bot_api_secret_token: str = Header(default="")
    ) -> dict[str, bool]:
        if not hmac.compare_digest(x_telegram_bot_api_secret_token.encode(), secret.encode()):
            raise HTTPException(status_code=401, detail="wrong secret token")
        try:
            update = TelegramUpdate.model_validate_json(await request.body())
        except ValidationError as error:
            # 400, not 500: Telegram would send the same body again, forever.
            raise HTTPException(status_code=400, detail=f"not a Telegram update: {error}") from None
        await publish_command(bus, update)
        return {"ok": True}

    return app
