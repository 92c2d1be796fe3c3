"""Process-wide logging set-up that never prints a configured secret.

A secret reaches log lines by routes no code review sees: httpx logs every request's URL at INFO,
and the Telegram Bot API carries the bot token in its URL path. So secrets are taken out of each
formatted line (message, arguments and traceback alike), whichever library logged it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from pydantic import BaseModel, SecretStr

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Shorter values are not replaced: redacting every "abc" would garble the lines and reveal little.
MIN_SECRET_LENGTH = 6


class RedactingFormatter(logging.Formatter):
    """A Formatter that replaces each secret, plain or percent-encoded, with REDACTED."""

    def __init__(self, secrets: Iterable[str], fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        forms = {form for secret in secrets for form in (secret, quote(secret, safe=""))}
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted(
            (form for form in forms if len(form) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return line


def secret_values(settings: BaseModel) -> Iterator[str]:
    """The value of every SecretStr field of `settings` that is set."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            yield value.get_secret_value()


def configure_logging(settings: BaseModel, level: int | str = logging.INFO) -> None:
    """Lines on stderr, with every secret of `settings` redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(secret_values(settings)))
    logging.basicConfig(level=level, handlers=[handler], force=True)
