from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.swarm import (
    DeployError,
    check_service_key,
    images_built_by_pants,
    read_settings_file,
)
from servicekit.auth.keys import VerificationKeys, generate_signing_key


def test_the_images_pants_built_are_known_by_id(tmp_path: Path) -> None:
    (tmp_path / "src.python.backend").mkdir()
    (tmp_path / "src.python.backend/image.docker-info.json").write_text(
        json.dumps(
            {
                "version": 1,
                "image_id": "0af599306b52",
                "registries": [
                    {
                        "alias": None,
                        "address": None,
                        "repository": "specfirst/backend",
                        "tags": [{"tag": "latest", "name": "specfirst/backend:latest"}],
                    }
                ],
            }
        )
    )
    assert images_built_by_pants(tmp_path) == {"specfirst/backend:latest": "0af599306b52"}


def test_the_settings_file_is_read_as_docker_reads_an_env_file(tmp_path: Path) -> None:
    settings = tmp_path / "settings.env"
    settings.write_text('# comment\n\nTELEGRAM_API_URL=http://x:1/a=b\nQUOTED="kept"\n')
    assert read_settings_file(settings) == {
        "TELEGRAM_API_URL": "http://x:1/a=b",
        "QUOTED": '"kept"',
    }


def test_a_line_without_a_value_is_named_by_file_and_line(tmp_path: Path) -> None:
    settings = tmp_path / "settings.env"
    settings.write_text("A=1\nTELEGRAM_API_URL\n")
    with pytest.raises(DeployError, match=f"^{settings}:2: expected KEY=VALUE"):
        read_settings_file(settings)


def test_a_service_never_gets_a_key_that_may_sign_any_role() -> None:
    operator, bot = generate_signing_key("operator"), generate_signing_key("tg_bot")
    jwks = VerificationKeys.of(
        operator.verification_key(), bot.verification_key(roles=["service"])
    ).to_json()
    check_service_key({"AUTH_JWKS": jwks, "AUTH_SIGNING_KEY": json.dumps(bot.to_jwk())})
    with pytest.raises(DeployError, match="key 'operator', which AUTH_JWKS admits for every role"):
        check_service_key({"AUTH_JWKS": jwks, "AUTH_SIGNING_KEY": json.dumps(operator.to_jwk())})
