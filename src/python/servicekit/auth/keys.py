"""The key set that signs and verifies tokens: `AUTH_KEYS` (or the secret file auth_keys).

The value is comma-separated `kid:secret` pairs. The first signs new tokens; all of them verify,
so a key rotates by putting its successor first and dropping it once old tokens have expired.
In the development profile without AUTH_KEYS, a key made once per machine (under the user's
cache directory) serves the services and the mint command alike; production requires AUTH_KEYS.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import SettingsError

MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash (RFC 7518 3.2)
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Profile = Literal["development", "production"]


@dataclass(frozen=True)
class KeySet:
    signing_kid: str
    secrets: dict[str, bytes]  # kid -> secret, the signing key among them

    @property
    def signing_secret(self) -> bytes:
        return self.secrets[self.signing_kid]


class AuthSettings(BaseSettings):
    """What a service reads to sign or check tokens; services' settings classes inherit it."""

    model_config = SettingsConfigDict(extra="ignore")

    profile: Profile = Field(default="development", validation_alias=AliasChoices("PROFILE"))
    auth_keys: SecretStr | None = Field(default=None, validation_alias=AliasChoices("AUTH_KEYS"))

    def key_set(self) -> KeySet:
        """The configured keys; SettingsError if malformed, or missing in production."""
        if self.auth_keys is not None:
            return parse_keys(self.auth_keys.get_secret_value())
        if self.profile == "production":
            raise SettingsError(
                "AUTH_KEYS is not set (required when PROFILE=production): "
                "comma-separated kid:secret pairs, e.g. main:$(openssl rand -hex 32)"
            )
        return development_keys()


def parse_keys(text: str) -> KeySet:
    pairs: dict[str, bytes] = {}
    first = ""
    for position, item in enumerate(text.split(","), start=1):
        kid, colon, secret = item.strip().partition(":")
        if not colon or not _KEY_ID.match(kid):
            raise SettingsError(
                f"AUTH_KEYS: entry {position} is not kid:secret (a kid is letters, digits, _ . -)"
            )
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"AUTH_KEYS: the secret of key '{kid}' is shorter than {MIN_SECRET_BYTES} bytes"
            )
        if kid in pairs:
            raise SettingsError(f"AUTH_KEYS: key '{kid}' is given twice")
        pairs[kid] = secret.encode()
        first = first or kid
    return KeySet(first, pairs)


def generate_key_set(kid: str = "main") -> str:
    """A fresh AUTH_KEYS value with one key."""
    return f"{kid}:{secrets.token_hex(MIN_SECRET_BYTES)}"


def development_keys_file() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "specfirst" / "auth_keys"


def development_keys() -> KeySet:
    """This machine's development key, made on first use (readable by its owner only)."""
    path = development_keys_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under another name (mkstemp: owner only), then linked into place: of
        # processes starting at once the first link wins, and none reads a half-written file.
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as file:
            file.write(generate_key_set("dev"))
        try:
            os.link(file.name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(file.name)
    text = path.read_text().strip()
    if not text:
        raise SettingsError(
            f"the development key file {path} is empty; delete it to make a new one"
        )
    return parse_keys(text)
