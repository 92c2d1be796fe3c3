"""The few Telegram Bot API methods the bot uses, over httpx.

Errors carry the event bus's failure classes, so a handler needs no mapping of its own: 400 (chat
not found) and 403 (bot blocked) never succeed on retry; 429 says when to retry; anything else
(5xx, an answer that is not the Bot API's, the network) is transient.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from servicekit.events import PermanentFailure, RetryAfter

logger = logging.getLogger(__name__)


class TelegramError(Exception):
    """Telegram answered `ok: false`, or not as the Bot API does: worth retrying later."""


class TelegramRejected(TelegramError, PermanentFailure):
    """400 or 403: the same request will never succeed (chat not found, bot blocked)."""


class TelegramFloodControl(TelegramError, RetryAfter):
    """429: too many requests; `seconds` is Telegram's `retry_after`."""


class TelegramApi:
    """Calls `<base_url>/bot<token>/<method>`; without a token it only logs what it would send."""

    def __init__(self, base_url: str, token: str | None, http: httpx.AsyncClient) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._http = http

    @property
    def enabled(self) -> bool:
        return self._token is not None

    async def send_message(self, chat_id: int, text: str) -> None:
        if not self.enabled:
            logger.info("no TELEGRAM_BOT_TOKEN; would send to %s: %s", chat_id, text)
            return
        await self._call("sendMessage", chat_id=chat_id, text=text)

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        """Long-polls for updates from `offset` on, which also confirms those before it."""
        updates: list[dict[str, Any]] = await self._call(
            "getUpdates",
            offset=offset,
            timeout=timeout,
            allowed_updates=["message"],
            http_timeout=timeout + 10,
        )
        return updates

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self._call(
            "setWebhook",
            url=url,
            secret_token=secret_token,
            allowed_updates=["message"],
        )

    async def _call(self, method: str, *, http_timeout: float | None = None, **params: Any) -> Any:
        arguments = {name: value for name, value in params.items() if value is not None}
        url = f"{self._base_url}/bot{self._token}/{method}"
        timeout = httpx.USE_CLIENT_DEFAULT if http_timeout is None else http_timeout
        response = await self._http.post(url, json=arguments, timeout=timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TelegramError(f"{method}: HTTP {response.status_code}, not a Bot API answer")
        if answer.get("ok"):
            return answer.get("result")
        code = answer.get("error_code", response.status_code)
        description = f"{method}: {code} {answer.get('description')}"
        if code == 429:
            retry_after = (answer.get("parameters") or {}).get("retry_after", 1)
            raise TelegramFloodControl(float(retry_after), description)
        if code in (400, 403):
            raise TelegramRejected(description)
        raise TelegramError(description)
