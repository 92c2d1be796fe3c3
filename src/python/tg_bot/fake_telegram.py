"""A fake Telegram Bot API speaking real HTTP, for tests: records sendMessage, serves getUpdates.

telegram = FakeTelegram()
with telegram.serve() as api_url:      # e.g. TELEGRAM_API_URL for a tg_bot process
    telegram.user_sends(42, "/start")  # the next getUpdates returns it
    telegram.wait_for_messages(42, 1)  # what the bot sent to chat 42
    telegram.refuse_messages_to(7, 403, "Forbidden: bot was blocked by the user")
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    text: str


@dataclass
class Refusal:
    status: int
    description: str
    retry_after: int | None
    times: int | None  # None: every time


# What a proxy in front of the Bot API answers when Telegram is down: not the Bot API's JSON.
GATEWAY_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


class FakeTelegram:
    def __init__(self, token: str = "123:test-token") -> None:
        self.token = token
        self.sent: list[SentMessage] = []
        self.webhooks: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._refusals: dict[int, Refusal] = {}
        # Like Telegram's, update ids start anywhere: the bot must not assume they start at 1.
        self._first_update_id = random.randrange(1, 2**31)
        # The server thread and the test both touch the lists.
        self._lock = threading.Lock()
        self.app = self._create_app()

    def user_sends(self, user_id: int, text: str) -> dict[str, Any]:
        """Queues a private message from `user_id`; returns the update as getUpdates serves it."""
        with self._lock:
            update = {
                "update_id": self._first_update_id + len(self._updates),
                "message": {
                    "message_id": len(self._updates) + 1,
                    "date": int(time.time()),
                    "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                    "chat": {"id": user_id, "type": "private"},
                    "text": text,
                },
            }
            self._updates.append(update)
        return update

    def refuse_messages_to(
        self,
        chat_id: int,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """The next `times` sendMessage calls to `chat_id` (None: all) fail as Telegram's do:
        `status` and `description`, with `retry_after` for a 429; a 5xx answers a proxy's page."""
        with self._lock:
            self._refusals[chat_id] = Refusal(status, description, retry_after, times)

    def _refusal_for(self, chat_id: int) -> Response | None:
        with self._lock:
            refusal = self._refusals.get(chat_id)
            if refusal is None:
                return None
            if refusal.times is not None:
                refusal.times -= 1
                if refusal.times == 0:
                    del self._refusals[chat_id]
        if refusal.status >= 500:
            return HTMLResponse(GATEWAY_PAGE, refusal.status)
        answer: dict[str, Any] = {
            "ok": False,
            "error_code": refusal.status,
            "description": refusal.description,
        }
        if refusal.retry_after is not None:
            answer["parameters"] = {"retry_after": refusal.retry_after}
        return JSONResponse(answer, refusal.status)

    def messages_to(self, chat_id: int) -> list[str]:
        with self._lock:
            return [message.text for message in self.sent if message.chat_id == chat_id]

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(texts := self.messages_to(chat_id)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"chat {chat_id}: expected {count} messages within {timeout}s, got {texts}"
                )
            time.sleep(0.01)
        return texts

    def serve(self, host: str = "127.0.0.1") -> AbstractContextManager[str]:
        """Serves the API on a free port of `host` in a thread; yields its base URL."""
        return serve_in_thread(self.app, host)

    def _pending_updates(self, offset: int) -> list[dict[str, Any]]:
        with self._lock:
            return [update for update in self._updates if update["update_id"] >= offset]

    def _create_app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> Response:
            if token != self.token:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
                )
            params = await request.json()
            if method == "sendMessage":
                refused = self._refusal_for(int(params["chat_id"]))
                if refused is not None:
                    return refused
                with self._lock:
                    self.sent.append(SentMessage(int(params["chat_id"]), params["text"]))
                return JSONResponse(
                    {"ok": True, "result": {"message_id": len(self.sent), **params}}
                )
            if method == "getUpdates":
                return JSONResponse({"ok": True, "result": await self._long_poll(params)})
            if method == "setWebhook":
                with self._lock:
                    self.webhooks.append(params)
                return JSONResponse({"ok": True, "result": True})
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

        return app

    async def _long_poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + params.get("timeout", 0)
        while (
            not (updates := self._pending_updates(params.get("offset") or 0))
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.01)
        return updates


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serves an ASGI app with uvicorn on a free port of `host` in a thread; yields its base URL."""
    listener = socket.socket()
    listener.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        listener.close()
