"""A missing or malformed setting stops start-up with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from backend import alembic_cli, main
from backend.settings import Settings, load_settings
from servicekit.waiting import free_port


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in (
        "DATABASE_URL",
        "REDIS_URL",
        "BACKEND_EMBEDDED",
        "BACKEND_PORT",
        "BACKEND_HOST",
    ):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DATABASE_URL": "not a url"}, "backend: DATABASE_URL: Input should be a valid URL"),
        (
            {"DATABASE_URL": ""},
            "backend: DATABASE_URL: Input should be a valid URL, input is empty",
        ),
        (
            {"DATABASE_URL": "mysql://db/app"},
            "backend: DATABASE_URL: URL scheme should be 'postgres'",
        ),
        ({"REDIS_URL": "http://cache"}, "backend: REDIS_URL: URL scheme should be 'redis'"),
        ({"BACKEND_PORT": "eighty"}, "backend: BACKEND_PORT: Input should be a valid integer"),
        (
            {"BACKEND_EMBEDDED": "false"},
            "backend: DATABASE_URL is not set (required when BACKEND_EMBEDDED=false)",
        ),
        (
            {"BACKEND_EMBEDDED": "false", "DATABASE_URL": "postgresql://db/app"},
            "backend: REDIS_URL is not set (required when BACKEND_EMBEDDED=false)",
        ),
        (
            {"BACKEND_IDEMPOTENCY_WAIT_SECONDS": "5"},
            "backend: BACKEND_IDEMPOTENCY_WAIT_SECONDS must be below",
        ),
    ],
)
def test_bad_settings_exit_with_one_line(
    clean_environment: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for variable, value in environment.items():
        clean_environment.setenv(variable, value)
    with pytest.raises(SystemExit) as exited:
        main.main()
    # sys.exit(text) prints the text alone, without a traceback, and exits with status 1.
    assert isinstance(exited.value.code, str) and "\n" not in exited.value.code
    assert exited.value.code.startswith(message)


def test_alembic_reports_bad_settings_the_same_way(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("DATABASE_URL", "nonsense")
    with pytest.raises(SystemExit) as exited:
        alembic_cli.main(["current"])
    assert str(exited.value.code).startswith("alembic: DATABASE_URL: Input should be a valid URL")


def test_defaults_and_overrides(clean_environment: pytest.MonkeyPatch) -> None:
    assert load_settings() == Settings(
        database_url=None, redis_url=None, embedded=True, host="0.0.0.0", port=8000
    )
    clean_environment.setenv("DATABASE_URL", "postgresql://postgres@db:5432/app")
    clean_environment.setenv("BACKEND_PORT", "9000")
    settings = load_settings()
    assert (str(settings.database_url), settings.port) == (
        "postgresql://postgres@db:5432/app",
        9000,
    )


def test_an_unreachable_database_is_waited_for_then_start_up_stops_in_one_line() -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/app",
        "REDIS_URL": "redis://127.0.0.1:9",
        "BACKEND_STARTUP_TIMEOUT_SECONDS": "2",
    }
    started = time.monotonic()
    backend = subprocess.run(
        [sys.executable, "-m", main.__name__],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert backend.returncode == 1, backend.stderr
    assert time.monotonic() - started >= 2
    waiting, gave_up = backend.stderr.splitlines()
    assert "PostgreSQL (DATABASE_URL) does not answer" in waiting
    assert gave_up.startswith("backend: PostgreSQL (DATABASE_URL) did not answer within 2s: ")
