"""Configuration from the environment (documented in infra/.env.example)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, PostgresDsn, RedisDsn, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.database import Timeouts
from servicekit.auth import AuthSettings
from servicekit.settings import ObservabilitySettings, SettingsError, read_settings


class Settings(AuthSettings, ObservabilitySettings):
    """PROFILE and the AUTH_ settings come with AuthSettings, LOG_LEVEL, LOG_FORMAT and METRICS_PORT with
    ObservabilitySettings; the rest are BACKEND_ variables."""

    model_config = SettingsConfigDict(env_prefix="BACKEND_", extra="ignore")

    # Unset: the shared embedded server (servicekit.shared_stack), unless BACKEND_EMBEDDED=false.
    database_url: PostgresDsn | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL")
    )
    redis_url: RedisDsn | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    embedded: bool = True
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    # Behind a reverse proxy that serves the API under a prefix (Caddy: /backend), that prefix.
    root_path: str = ""
    db_pool_size: int = Field(default=10, ge=1)
    # Bounds on every wait for a dependency: past them a request answers 503 instead of hanging.
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    # Larger request bodies are refused with 413 (Caddy enforces its own limit in front).
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    # How long start-up waits for the database to answer before giving up.
    startup_timeout_seconds: float = Field(default=30.0, ge=0)
    # Idempotency-Key: how long a key's answer is kept for repeats, and how long a repeat waits
    # for the first request with its key (then 409); under the statement timeout, which would
    # end the wait as a 503.
    idempotency_key_ttl_seconds: float = Field(default=24 * 3600, gt=0)
    idempotency_wait_seconds: float = Field(default=4.0, gt=0)
    # /docs and /openapi.json; unset: served in development, not in production.
    docs: bool | None = None

    @property
    def serves_docs(self) -> bool:
        return self.docs if self.docs is not None else self.profile == "development"

    @model_validator(mode="after")
    def _key_waits_end_before_statements_do(self) -> Settings:
        if self.idempotency_wait_seconds >= self.db_statement_timeout_seconds:
            raise ValueError(
                "BACKEND_IDEMPOTENCY_WAIT_SECONDS must be below BACKEND_DB_STATEMENT_TIMEOUT_SECONDS"
                " (a repeat would meet the statement timeout, a 503, instead of a 409)"
            )
        return self

    def require_urls(self) -> None:
        """Without embedded servers, DATABASE_URL and REDIS_URL must be set."""
        if self.embedded:
            return
        for variable, value in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url)):
            if value is None:
                raise SettingsError(f"{variable} is not set (required when BACKEND_EMBEDDED=false)")

    def database_timeouts(self) -> Timeouts:
        return Timeouts(
            connect=self.db_connect_timeout_seconds,
            statement=self.db_statement_timeout_seconds,
            pool_checkout=self.db_pool_timeout_seconds,
        )


# The defaults, whatever the environment says: for tests and tools that build an app directly.
DEFAULTS = Settings.model_construct()


def load_settings() -> Settings:
    """The settings, or SettingsError naming each bad variable."""
    settings = read_settings(Settings)
    settings.require_urls()
    return settings
