"""Bad settings are reported by the names of their environment variables, on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import SettingsError, exit_on_settings_error, read_settings


class ExampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    port: int = 8000
    limit: int = Field(default=1, validation_alias=AliasChoices("SHARED_LIMIT"))
    secret: str | None = None
    mode: str = "open"

    @model_validator(mode="after")
    def _closed_needs_a_secret(self) -> ExampleSettings:
        if self.mode == "closed" and self.secret is None:
            raise ValueError("EXAMPLE_SECRET is required when EXAMPLE_MODE=closed")
        return self


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"EXAMPLE_PORT": "eighty"}, "EXAMPLE_PORT: Input should be a valid integer"),
        ({"SHARED_LIMIT": "many"}, "SHARED_LIMIT: Input should be a valid integer"),
        (
            {"EXAMPLE_PORT": "x", "SHARED_LIMIT": "many"},
            "EXAMPLE_PORT: Input should be a valid integer, unable to parse string as an integer; "
            "SHARED_LIMIT: Input should be a valid integer",
        ),
        (
            {"EXAMPLE_MODE": "closed"},
            "EXAMPLE_SECRET is required when EXAMPLE_MODE=closed",
        ),
    ],
)
def test_each_bad_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        read_settings(ExampleSettings)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_good_settings_are_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_PORT", "9000")
    assert read_settings(ExampleSettings).port == 9000


def test_a_settings_error_ends_the_program_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_PORT", "eighty")
    with pytest.raises(SystemExit) as exited:
        with exit_on_settings_error("example"):
            read_settings(ExampleSettings)
    # sys.exit(text) prints the text alone, without a traceback, and exits with status 1.
    assert exited.value.code == (
        "example: EXAMPLE_PORT: Input should be a valid integer, unable to parse string as an integer"
    )


class SecretSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    database_url: str = Field(validation_alias=AliasChoices("DATABASE_URL"))
    token: str | None = None
    port: int = 8000


def test_secrets_are_read_from_files_named_like_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "database_url").write_text("postgresql://app:s3cret@db/app\n")
    (tmp_path / "example_token").write_text("123:abc")
    settings = read_settings(SecretSettings, secrets_dir=tmp_path)
    assert (settings.database_url, settings.token) == ("postgresql://app:s3cret@db/app", "123:abc")


def test_an_environment_variable_wins_over_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/app")
    (tmp_path / "database_url").write_text("postgresql://from-file/app")
    assert read_settings(SecretSettings, secrets_dir=tmp_path).database_url == (
        "postgresql://from-env/app"
    )


def test_a_malformed_secret_is_named_like_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/app")
    (tmp_path / "example_port").write_text("eighty")
    with pytest.raises(SettingsError, match="^EXAMPLE_PORT: Input should be a valid integer"):
        read_settings(SecretSettings, secrets_dir=tmp_path)


def test_without_a_secrets_directory_only_the_environment_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SettingsError, match="^DATABASE_URL: Field required"):
        read_settings(SecretSettings, secrets_dir=tmp_path / "absent")
