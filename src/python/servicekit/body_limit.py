"""A limit on request body size, checked before the body is parsed: 413 in the JSON error shape."""

from __future__ import annotations

from fastapi import HTTPException

# Starlette comes with FastAPI.
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # pants: no-infer-dep

from servicekit.errors import error_response

PAYLOAD_TOO_LARGE = 413


class BodySizeLimit:
    """ASGI middleware: a declared Content-Length over `max_bytes` is refused before anything is
    read; a body sent without one is counted as it arrives and refused once past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(PAYLOAD_TOO_LARGE, self._detail())
            # Closing the connection spares reading the rest of the body.
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # FastAPI passes an HTTPException raised while reading the body on to its handler.
                raise HTTPException(PAYLOAD_TOO_LARGE, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"
