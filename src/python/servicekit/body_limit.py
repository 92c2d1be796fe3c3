"""A limit on request body size, checked before the body is parsed: 413 in the JSON error shape."""

from __future__ import annotations

from fastapi import HTTPException

# Starlette comes with FastAPI.
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # pants: no-infer-dep

PAYLOAD_TOO_LARGE = 413


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` is refused with 413 when the app reads it, so that
    a route checks its caller first (servicekit.strict_json). A declared Content-Length over the
    limit is refused at the first read, before anything is received, and whatever the answer, it
    closes the connection so that the body is never read; a body sent without one is counted as
    it arrives and refused once past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:

            async def refusing_receive() -> Message:
                raise self._too_large()

            async def closing_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
                await send(message)

            await self.app(scope, refusing_receive, closing_send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise self._too_large()
            return message

        await self.app(scope, counting_receive, send)

    def _too_large(self) -> HTTPException:
        # FastAPI passes an HTTPException raised while reading the body on to its handler.
        return HTTPException(
            PAYLOAD_TOO_LARGE, f"the request body is larger than {self.max_bytes} bytes"
        )
