"""What each request leaves behind: a request id, an access line, metrics and a server span.

An ASGI middleware rather than Starlette's BaseHTTPMiddleware (which runs the app in a task of its
own, and costs more per request). The spec's operation is known once the router has matched:
the route sets `scope["route"]`, and servicekit.strict_json's route class names the log fields,
the span and the in-flight gauge after it while it runs.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import AbstractContextManager, nullcontext

from opentelemetry import propagate
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

# Starlette comes with FastAPI.
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # pants: no-infer-dep

from servicekit.logs import log_context
from servicekit.metrics import HTTP_DURATION, HTTP_REQUESTS
from servicekit.tracing import tracer, tracing_enabled

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is kept if it is short and plain; anything else (line breaks, 10 KB) is replaced.
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"  # the operation of a request no route took (a 404, a 405)

access_logger = logging.getLogger("servicekit.access")


class _AsgiHeaders(Getter[Scope]):
    def get(self, carrier: Scope, key: str) -> list[str] | None:
        name = key.encode("latin-1")
        values = [value.decode("latin-1") for header, value in carrier["headers"] if header == name]
        return values or None

    def keys(self, carrier: Scope) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier["headers"]]


_HEADERS = _AsgiHeaders()


class _Response:
    status = 500  # until a response starts


def route_of(scope: Scope) -> tuple[str, str]:
    """(operation id, route template) of the route that took the request."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED, ""
    return getattr(route, "operation_id", None) or route.name, route.path


class ObserveRequests:
    """`metrics`: count and time requests (Prometheus); spans when tracing is on; an access line
    at INFO on the `servicekit.access` logger."""

    def __init__(self, app: ASGIApp, *, metrics: bool = True) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        response = _Response()

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        with (
            log_context(request_id=request_id.decode()),
            _server_span(scope, request_id) as span,
        ):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                operation, template = route_of(scope)
                if span is not None:
                    span.update_name(operation)
                    span.set_attribute("http.route", template)
                    span.set_attribute("http.response.status_code", response.status)
                    if response.status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                seconds = time.perf_counter() - start
                self._record(scope["method"], operation, template, response.status, seconds)

    def _record(
        self, method: str, operation: str, template: str, status: int, seconds: float
    ) -> None:
        if self.metrics:
            HTTP_REQUESTS.labels(operation, f"{status // 100}xx").inc()
            HTTP_DURATION.labels(operation).observe(seconds)
        if access_logger.isEnabledFor(logging.INFO):
            access_logger.info(
                "%s %s %d",
                method,
                template or "(no route)",
                status,
                extra={
                    "method": method,
                    "route": template,
                    "operation": operation,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )


def _server_span(scope: Scope, request_id: bytes) -> AbstractContextManager[Span | None]:
    """The request's server span, continuing the caller's trace; none when tracing is off."""
    if not tracing_enabled():
        return nullcontext()
    return tracer.start_as_current_span(
        scope["method"],
        context=propagate.extract(scope, getter=_HEADERS),
        kind=SpanKind.SERVER,
        # The request id too: it finds the request's log lines from its span.
        attributes={"http.request.method": scope["method"], "request_id": request_id.decode()},
    )


def _request_id(scope: Scope) -> bytes:
    for header, value in scope["headers"]:
        if header == REQUEST_ID_HEADER and _VALID_REQUEST_ID.fullmatch(value):
            return bytes(value)
    return uuid.uuid4().hex.encode()
