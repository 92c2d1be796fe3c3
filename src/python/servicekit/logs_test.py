"""No configured secret reaches a log line, however it got there."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from servicekit.logs import REDACTED, RedactingFormatter, secret_values

TOKEN = "123456:AAE-bot_token"


class Settings(BaseSettings):
    telegram_bot_token: SecretStr | None = SecretStr(TOKEN)
    webhook_secret: SecretStr | None = None
    backend_url: str = "http://backend"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(secret_values(Settings()), fmt="%(message)s"))
    logger = logging.getLogger("logs_test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_secrets_in_messages_arguments_and_tracebacks_are_redacted(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.info('HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api/bot{TOKEN}/sendMessage")
    logger.info("escaped: https://api/bot%s/getMe", "123456%3AAAE-bot_token")
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/getUpdates")
    except RuntimeError:
        logger.exception("poll failed")
    text = stream.getvalue()
    assert TOKEN not in text and "123456%3AAAE" not in text, text
    assert f"https://api/bot{REDACTED}/sendMessage" in text
    assert f"RuntimeError: failed calling /bot{REDACTED}/getUpdates" in text


def test_only_set_secret_fields_are_secrets() -> None:
    assert list(secret_values(Settings())) == [TOKEN]
