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

from generated.events import COMMAND_RECEIVED
from generated.models import CommandReceived
from servicekit.events import EventBus
from tg_bot.telegram import TelegramApi, TelegramError

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


def command_from_update(update: dict[str, Any]) -> CommandReceived | None:
    """The command in a message update (`/start@SomeBot a b` -> `/start`, [a, b]), else None."""
    message = update.get("message") or {}
    words = (message.get("text") or "").split()
    if not words or not words[0].startswith("/") or "from" not in message:
        return None
    return CommandReceived(
        command=words[0].split("@", 1)[0],
        args=words[1:],
        user_id=message["from"]["id"],
        timestamp=datetime.fromtimestamp(message["date"], timezone.utc),
    )


async def publish_command(bus: EventBus, update: dict[str, Any]) -> None:
    """Publishes the update's command, if any, once: Telegram may deliver an update again."""
    command = command_from_update(update)
    if command is not None:
        await bus.publish(
            COMMAND_RECEIVED, command, event_id=f"telegram-update-{update['update_id']}"
        )


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
        for update in updates:
            await publish_command(bus, update)
            offset = update["update_id"] + 1


def create_webhook_app(bus: EventBus, secret: str) -> FastAPI:
    """An ASGI app receiving Telegram's webhook calls, checking their secret token header."""
    app = FastAPI(title="tg_bot webhook", openapi_url=None)

    @app.post(WEBHOOK_PATH)
    async def receive_update(
        request: Request, x_telegram_bot_api_secret_token: str = Header(default="")
    ) -> dict[str, bool]:
        if not hmac.compare_digest(x_telegram_bot_api_secret_token.encode(), secret.encode()):
            raise HTTPException(status_code=401, detail="wrong secret token")
        await publish_command(bus, await request.json())
        return {"ok": True}

    return app
