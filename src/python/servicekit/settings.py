"""Service settings read from the environment; a bad value is reported by its variable's name.

A setting may also come from a file named like it in lower case under /run/secrets (where Docker
Swarm and the Kubernetes manifests mount secrets): /run/secrets/database_url for DATABASE_URL. An
environment variable wins over the file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, AnyUrl, Field, UrlConstraints, ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)

# redis-py's schemes: TCP, TLS and a Unix socket (pydantic's RedisDsn refuses the socket).
RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]
SECRETS_DIR = Path("/run/secrets")


class ObservabilitySettings(BaseSettings):
    """What every service reads the same way, whatever its prefix: LOG_LEVEL, LOG_FORMAT and
    METRICS_PORT. Tracing reads OpenTelemetry's own variables (OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_TRACES_SAMPLER, ...)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=AliasChoices("LOG_LEVEL")
    )
    # auto: console lines on a terminal, JSON lines otherwise.
    log_format: Literal["json", "console", "auto"] = Field(
        default="auto", validation_alias=AliasChoices("LOG_FORMAT")
    )
    # Prometheus' /metrics on this port, apart from the API (a proxy in front never serves it);
    # unset: none.
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=AliasChoices("METRICS_PORT")
    )


class SettingsError(ValueError):
    """Settings that are missing or malformed: one line naming each bad environment variable."""


def read_settings(settings_class: type[S], secrets_dir: Path = SECRETS_DIR) -> S:
    """`settings_class` filled from the environment and `secrets_dir`, or SettingsError."""
    try:
        # pydantic-settings warns about a missing directory: most processes run without secrets.
        return settings_class(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None)
    except ValidationError as error:
        prefix = settings_class.model_config.get("env_prefix", "")
        raise SettingsError(
            "; ".join(_describe(prefix, problem) for problem in error.errors())
        ) from None


def shared_stack(variable: str) -> ModuleType:
    """`servicekit.shared_stack`, to stand in for an unset `variable`; SettingsError in a build
    without it (an image: images are given URLs)."""
    try:
        # Imported by name: only development builds depend on it (see the services' BUILD files).
        return importlib.import_module("servicekit.shared_stack")
    except ModuleNotFoundError:
        raise SettingsError(
            f"{variable} is not set, and this build has no embedded servers to start instead"
        ) from None


@contextmanager
def exit_on_settings_error(program: str) -> Iterator[None]:
    """Turns SettingsError into the end of the process: `program: VARIABLE: problem`, no traceback."""
    try:
        yield
    except SettingsError as error:
        sys.exit(f"{program}: {error}")


def _describe(env_prefix: str, problem: Any) -> str:
    if not problem["loc"]:  # a check across fields names its variables itself
        return str(problem["ctx"]["error"]) if "error" in problem.get("ctx", {}) else problem["msg"]
    name = str(problem["loc"][0])
    # An aliased field is reported by its alias (DATABASE_URL), the others by prefix and name.
    variable = name if name.isupper() else f"{env_prefix}{name}".upper()
    return f"{variable}: {problem['msg']}"
