"""Every line is one JSON object (or one console line) with the context's fields, and no configured
secret reaches it, however it got there."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic import PostgresDsn, SecretStr
from pydantic_settings import BaseSettings

from servicekit.logs import REDACTED, bind_log_fields, formatter, log_context, secret_values

TOKEN = "123456:AAE-bot_token"
PASSWORD = "db-password-7f3a"

Lines = Callable[[], list[str]]


class Settings(BaseSettings):
    telegram_bot_token: SecretStr | None = SecretStr(TOKEN)
    webhook_secret: SecretStr | None = None
    backend_url: str = "http://backend"
    database_url: PostgresDsn = PostgresDsn(f"postgresql://app:{PASSWORD}@db:5432/app")


def logged(log_format: str) -> Iterator[tuple[logging.Logger, Lines]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(secret_values(Settings()), log_format))  # type: ignore[arg-type]
    logger = logging.getLogger(f"logs_test.{log_format}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: stream.getvalue().splitlines()
    logger.removeHandler(handler)


@pytest.fixture
def json_lines() -> Iterator[tuple[logging.Logger, Lines]]:
    yield from logged("json")


@pytest.fixture
def console_lines() -> Iterator[tuple[logging.Logger, Lines]]:
    yield from logged("console")


def parsed(lines: Lines) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines()]


def test_a_line_is_a_json_object_with_level_logger_time_and_extra_fields(
    json_lines: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = json_lines
    logger.warning("relaying %s failed", "users", extra={"attempt": 3})
    [line] = parsed(lines)
    assert line["event"] == "relaying users failed"
    assert line["level"] == "warning" and line["logger"] == "logs_test.json"
    assert line["attempt"] == 3 and line["time"].endswith("Z")


def test_lines_inside_a_context_carry_its_fields_and_those_bound_later(
    json_lines: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = json_lines
    with log_context(request_id="r-1") as fields:
        bind_log_fields(subject="42")
        logger.info("inside")
    logger.info("outside")
    bind_log_fields(subject="nobody")  # outside a context: nothing to bind to
    inside, outside = parsed(lines)
    assert inside["request_id"] == "r-1" and inside["subject"] == "42"
    assert fields == {"request_id": "r-1", "subject": "42"}
    assert "request_id" not in outside and "subject" not in outside


def test_lines_inside_a_span_carry_its_trace_and_span_ids(
    json_lines: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = json_lines
    tracer = TracerProvider().get_tracer("logs_test")
    with tracer.start_as_current_span("work") as span:
        logger.info("traced")
    [line] = parsed(lines)
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")


def test_secrets_in_messages_arguments_and_tracebacks_are_redacted(
    json_lines: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = json_lines
    logger.info('HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api/bot{TOKEN}/sendMessage")
    logger.info("escaped: https://api/bot%s/getMe", "123456%3AAAE-bot_token")
    logger.info("connecting", extra={"url": f"postgresql://app:{PASSWORD}@db/app"})
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/getUpdates")
    except RuntimeError:
        logger.exception("poll failed")
    text = "\n".join(lines())
    assert TOKEN not in text and "123456%3AAAE" not in text and PASSWORD not in text, text
    sent, escaped, connecting, failed = parsed(lines)
    assert (
        sent["event"]
        == f'HTTP Request: POST https://api/bot{REDACTED}/sendMessage "HTTP/1.1 200 OK"'
    )
    assert connecting["url"] == f"postgresql://app:{REDACTED}@db/app"
    assert f"RuntimeError: failed calling /bot{REDACTED}/getUpdates" in failed["exception"]


def test_a_value_with_line_breaks_cannot_forge_a_line(
    json_lines: tuple[logging.Logger, Lines], console_lines: tuple[logging.Logger, Lines]
) -> None:
    forged = 'x\n{"level": "info", "event": "admin logged in"}\r\nINFO forged'
    for logger, lines in (json_lines, console_lines):
        logger.info("got %s", forged, extra={"header": forged})
        assert len(lines()) == 1, lines()
    assert parsed(json_lines[1])[0]["header"] == forged


def test_only_set_secret_fields_and_url_passwords_are_secrets() -> None:
    assert list(secret_values(Settings())) == [TOKEN, PASSWORD]
