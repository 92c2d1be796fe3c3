"""One log shape for every process: JSON lines in production, readable lines in development.

The standard library's loggers (ours, uvicorn's, httpx's, Alembic's) all write through one handler
whose formatter is structlog's `ProcessorFormatter`: a line is an event dict, rendered by
`structlog.processors.JSONRenderer` (or `ConsoleRenderer` for a terminal). A logger adds fields
with `extra=`; the request or event being handled adds its own through `log_context`, and the
current trace its ids.

Two things never reach a line:
- a configured secret: httpx logs every request's URL at INFO, and the Telegram Bot API carries the
  bot token in its URL path. Each secret, plain or percent-encoded, is replaced in every field,
  tracebacks included, whichever library logged it;
- a forged line: JSON escapes line breaks; console lines have them escaped too.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import quote

import structlog
from opentelemetry import trace
from pydantic import AnyUrl, BaseModel, SecretStr

LogFormat = Literal["json", "console", "auto"]
REDACTED = "[redacted]"
# Shorter values are not replaced: redacting every "abc" would garble the lines and reveal little.
MIN_SECRET_LENGTH = 6

EventDict = MutableMapping[str, Any]

# The fields of the request or event this task handles. One mutable dict per request, not a
# variable per field: fields added deeper down (the principal, the operation) are then on the
# request's last line, its access line, too.
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "servicekit_log_context", default=None
)


@contextmanager
def log_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Every line logged inside carries `fields` (and those `bind_log_fields` adds)."""
    fields = {**(_context.get() or {}), **fields}
    token = _context.set(fields)
    try:
        yield fields
    finally:
        _context.reset(token)


def bind_log_fields(**fields: Any) -> None:
    """Adds `fields` to the current request's or event's lines; nothing outside one."""
    current = _context.get()
    if current is not None:
        current.update(fields)


def _add_context(_: Any, __: str, event: EventDict) -> EventDict:
    current = _context.get()
    if current:
        for key, value in current.items():
            event.setdefault(key, value)
    return event


def _add_trace_ids(_: Any, __: str, event: EventDict) -> EventDict:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
        event["span_id"] = format(span_context.span_id, "016x")
    return event


class _Redact:
    """Replaces each secret, plain or percent-encoded, in every string field."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets for form in (secret, quote(secret, safe=""))}
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted(
            (form for form in forms if len(form) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )

    def __call__(self, _: Any, __: str, event: EventDict) -> EventDict:
        if self._secrets:
            for key, value in event.items():
                if isinstance(value, str):
                    for secret in self._secrets:
                        if secret in value:
                            value = value.replace(secret, REDACTED)
                    event[key] = value
        return event


def _escape_line_breaks(_: Any, __: str, event: EventDict) -> EventDict:
    """Console lines: a value cannot start a line of its own (tracebacks keep theirs)."""
    for key, value in event.items():
        if isinstance(value, str) and key != "exception" and ("\n" in value or "\r" in value):
            event[key] = value.replace("\r", "\\r").replace("\n", "\\n")
    return event


def formatter(secrets: Iterable[str], log_format: LogFormat = "json") -> logging.Formatter:
    """The formatter of every line: fields of the record, its `extra`, the context and the trace,
    without `secrets`, rendered as JSON or for the console ("auto": console on a terminal)."""
    if log_format == "auto":
        log_format = "console" if sys.stderr.isatty() else "json"
    renderer: list[structlog.typing.Processor] = (
        [_escape_line_breaks, structlog.dev.ConsoleRenderer(colors=False)]
        if log_format == "console"
        else [structlog.processors.JSONRenderer()]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            _add_context,
            _add_trace_ids,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A traceback as text (not structlog's dict form, which can hold local variables).
            structlog.processors.format_exc_info,
            _Redact(secrets),
            *renderer,
        ],
    )


def secret_values(settings: BaseModel) -> Iterator[str]:
    """The value of every SecretStr field of `settings` that is set, and the password of every URL
    (DATABASE_URL's)."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            yield value.get_secret_value()
        elif isinstance(value, AnyUrl) and value.password:
            yield value.password
        elif hasattr(value, "hosts"):  # pydantic's multi-host URLs (PostgresDsn)
            yield from (host["password"] for host in value.hosts() if host.get("password"))


def configure_logging(
    settings: BaseModel,
    level: int | str = logging.INFO,
    log_format: LogFormat = "auto",
    extra_secrets: Iterable[str] = (),
) -> None:
    """Every logger's lines on stderr in one shape, without the secrets of `settings`."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter([*secret_values(settings), *extra_secrets], log_format))
    logging.basicConfig(level=level, handlers=[handler], force=True)
