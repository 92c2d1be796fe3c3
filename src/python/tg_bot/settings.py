"""Configuration from the environment; a missing or malformed variable stops start-up by name."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from servicekit.auth import AuthSettings
from servicekit.settings import ObservabilitySettings, RedisUrl


class Settings(AuthSettings, ObservabilitySettings):
    """Each field is read from the environment variable of the same name, in capitals (PROFILE
    and AUTH_SIGNING_KEY, the bot's own key for its calls to the backend, come with AuthSettings; LOG_LEVEL,
    LOG_FORMAT and METRICS_PORT with ObservabilitySettings)."""

    # None: the machine's shared embedded Redis (servicekit.shared_stack; not in the image).
    redis_url: RedisUrl | None = None
    backend_url: AnyHttpUrl
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    # None: nothing is sent to or polled from Telegram; outgoing messages are logged instead.
    telegram_bot_token: SecretStr | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_poll_timeout: int = 30
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "0.0.0.0"
    telegram_webhook_port: int = 8081
    # When set, start-up registers it with Telegram's setWebhook.
    telegram_webhook_url: AnyHttpUrl | None = None
    events_consumer_group: str = "tg_bot"
    # None: the host name and process id, unique per worker.
    events_consumer_name: str | None = None
    events_max_failures: int = 5
    events_claim_idle: float = 10.0
    # How long start-up waits for Redis to answer before giving up.
    startup_timeout: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.telegram_mode == "webhook" and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook")
        return self
