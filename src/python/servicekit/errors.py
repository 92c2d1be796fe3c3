"""One JSON error shape for every error a FastAPI service answers: `{"detail": text}`, plus
`"errors": [{loc, msg, type}]` for a request that does not validate.

Nothing in an error body echoes the client's input: it may not be serialisable (NaN, a lone
surrogate, bytes that are not UTF-8) and it is not ours to repeat. Driver text, hosts and ports
stay in the log too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from servicekit import idempotency, persistence, preconditions
from servicekit.metrics import DEPENDENCY_UNAVAILABLE

# Starlette comes with FastAPI; its HTTPException is also what the router raises for 404 and 405.
from starlette.exceptions import HTTPException  # pants: no-infer-dep
from starlette.routing import Match  # pants: no-infer-dep

logger = logging.getLogger(__name__)

# A dependency that does not answer in time or at all: the client may retry later (503), it is not
# the request's fault. A client-side timeout (asyncpg's command_timeout, asyncio.wait_for) is
# TimeoutError; a refused connection is an OSError the driver does not wrap.
UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection within pool_timeout
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,  # TimeoutError and ConnectionRefusedError among them
)
RETRY_AFTER_SECONDS = 1
METHOD_NOT_ALLOWED = 405
# What a 405's Allow may name: each is tried against the app's routes.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ErrorResponse(JSONResponse):
    """A JSON body that always renders: ASCII escapes for any character, no NaN."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def error_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> ErrorResponse:
    return ErrorResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error_class, status in _STORAGE_ERRORS.items():
        app.add_exception_handler(error_class, _storage_error(status))
    app.add_exception_handler(persistence.InvalidValue, _invalid_value)
    app.add_exception_handler(persistence.PreconditionFailed, _precondition_failed)
    app.add_exception_handler(idempotency.IdempotencyKeyInUse, _idempotency_key_in_use)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


async def _http_error(request: Request, error: Exception) -> ErrorResponse:
    assert isinstance(error, HTTPException)
    headers = error.headers
    if error.status_code == METHOD_NOT_ALLOWED:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(error.status_code, str(error.detail), headers)


def _allowed_methods(request: Request) -> str:
    """Every method a route serves on the request's path. Starlette's 405 names only those of the
    first route matching the path, and a path with GET and POST has a route for each."""
    return ", ".join(
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


async def _validation_error(request: Request, error: Exception) -> ErrorResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "loc": [_location(part) for part in problem["loc"]],
            "msg": problem["msg"],
            "type": problem["type"],
        }
        for problem in error.errors()
    ]
    return ErrorResponse({"detail": "the request is invalid", "errors": errors}, status_code=422)


# What a generated repository's errors answer, as the spec declares them (rest.errors), and
# those of a route's If-Match header.
_STORAGE_ERRORS: dict[type[Exception], int] = {
    persistence.NotFound: 404,
    persistence.Conflict: 409,
    persistence.NothingToUpdate: 400,
    preconditions.MalformedPrecondition: 400,
    preconditions.PreconditionRequired: 428,
    idempotency.MalformedIdempotencyKey: 400,
    idempotency.MissingIdempotencyKey: 400,
    idempotency.IdempotencyKeyReused: 422,
}


def _storage_error(status: int) -> Any:
    async def answer(request: Request, error: Exception) -> ErrorResponse:
        return error_response(status, str(error))

    return answer


async def _precondition_failed(request: Request, error: Exception) -> ErrorResponse:
    """412 with the row's current ETag, which a client can read again by."""
    assert isinstance(error, persistence.PreconditionFailed)
    etag = preconditions.entity_tag(error.current_version)
    return error_response(412, str(error), {"ETag": etag})


async def _idempotency_key_in_use(request: Request, error: Exception) -> ErrorResponse:
    """409: the first request with the key may still succeed; a retry then gets its answer."""
    return error_response(409, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _invalid_value(request: Request, error: Exception) -> ErrorResponse:
    """A body value the table cannot hold, answered as any other invalid request."""
    assert isinstance(error, persistence.InvalidValue)
    problem = {"loc": ("body", error.field), "msg": str(error), "type": error.kind}
    return await _validation_error(request, RequestValidationError([problem]))


async def _unavailable(request: Request, error: Exception) -> ErrorResponse:
    # The cause for the operator; the client learns only that it may retry.
    logger.warning("%s %s: dependency unavailable: %r", request.method, request.url.path, error)
    DEPENDENCY_UNAVAILABLE.labels(f"{type(error).__module__}.{type(error).__name__}").inc()
    return error_response(
        503,
        "a service this request needs is unavailable; retry later",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, error: Exception) -> ErrorResponse:
    # Starlette logs the exception itself after this response is sent.
    return error_response(500, "internal server error")


def _location(part: Any) -> str | int:
    return part if isinstance(part, (str, int)) else str(part)
