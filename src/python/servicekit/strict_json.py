"""Request bodies parsed as strict JSON (RFC 8259): UTF-8, no NaN or Infinity, no lone surrogates.

Python's json module accepts all three; the values then fail later, where they cannot be reported
(a response cannot encode them). Rejected while parsing, FastAPI reports them as a 422 like any
other malformed JSON.

A route with a body takes only `application/json` (or a `+json` type): FastAPI would parse a body
sent without a Content-Type as JSON, and so accept the simple requests a browser sends across
sites without asking (CSRF, once credentials ride on cookies). Anything else is a 415.

The route class is also where a request's spec operation is first known (servicekit.request_observer),
and where its guard (servicekit.auth.guards) checks the caller before anything reads the body: a
caller who may not call the operation gets 401 or 403, never a 413, 415 or 422 that would tell it
the body's limit or schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from servicekit.auth.guards import RouteGuard
from servicekit.logs import bind_log_fields
from servicekit.metrics import HTTP_IN_FLIGHT

# An escaped UTF-16 surrogate; a pair becomes one character when parsed, a lone one stays.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_strict_json(body: bytes) -> Any:
    """The value of `body`, or json.JSONDecodeError saying what is wrong and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError("the body is not UTF-8", "", error.start) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # nesting deeper than Python's parser goes
        raise json.JSONDecodeError("the value is nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer past int()'s digit limit (4300); FastAPI would answer 400
        raise json.JSONDecodeError("a number has too many digits", "", 0) from None
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise json.JSONDecodeError("a string holds a lone UTF-16 surrogate", text, 0)
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is parsed strictly (FastAPI's custom route class), whose guards
    check the caller before the body is read, and which names what it runs after its operation:
    the log fields, the in-flight gauge."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        operation = self.operation_id or self.name
        in_flight = HTTP_IN_FLIGHT.labels(operation)
        strict = self.body_field is not None
        # The guards among the route's own dependencies (Depends(<guard>) parameters).
        guards = [
            dependency.call
            for dependency in self.dependant.dependencies
            if isinstance(dependency.call, RouteGuard)
        ]

        async def observed_handler(request: Request) -> Response:
            bind_log_fields(operation=operation)
            with in_flight.track_inprogress():
                for guard in guards:
                    await guard.check_before_body(request)
                if not strict:  # nothing to parse: FastAPI's handler as it is
                    return await handler(request)
                if not _is_json(request.headers.get("content-type", "")):
                    raise HTTPException(415, "the body must be JSON, sent as application/json")
                return await handler(StrictJSONRequest(request.scope, request.receive))

        return observed_handler


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= character <= "\udfff" for character in value)
    if isinstance(value, dict):
        return any(
            _has_lone_surrogate(key) or _has_lone_surrogate(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False
