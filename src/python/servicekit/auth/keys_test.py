"""AUTH_JWKS and AUTH_SIGNING_KEY: what a service accepts, and the error naming the setting and
the key for what it does not."""

from __future__ import annotations

import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from servicekit.auth.keys import (
    EDDSA,
    HS256,
    SigningKey,
    VerificationKeys,
    development_signing_key,
    generate_signing_key,
    parse_jwks,
    parse_signing_key,
)
from servicekit.auth.settings import AuthSettings
from servicekit.settings import SettingsError

KEY = generate_signing_key("k1")
PUBLIC = KEY.verification_key().to_jwk()
SHARED = SigningKey("shared", HS256, b"s" * 32)


def jwks(*keys: dict[str, object]) -> str:
    return json.dumps({"keys": list(keys)})


def test_a_jwks_round_trips_with_its_restrictions() -> None:
    narrow = generate_signing_key("svc").verification_key(roles=["service"], audiences=["backend"])
    keys = VerificationKeys.of(KEY.verification_key(), narrow)
    parsed = parse_jwks(keys.to_json(), allow_hs256=False)
    assert parsed == keys
    assert parsed.by_kid["k1"].algorithm == EDDSA and parsed.by_kid["k1"].roles is None
    assert parsed.by_kid["svc"].roles == {"service"} and parsed.by_kid["svc"].audiences == {
        "backend"
    }


def test_a_signing_key_round_trips() -> None:
    parsed = parse_signing_key(json.dumps(KEY.to_jwk()), allow_hs256=False)
    assert parsed.verification_key() == KEY.verification_key()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("{", "AUTH_JWKS is not JSON"),
        ("[]", 'expected a JWK Set, {"keys": [...]}'),
        (jwks(), 'expected a JWK Set, {"keys": [...]}'),
        (jwks({**PUBLIC, "kid": "bad kid"}), "key 1 needs a kid of letters"),
        (jwks(PUBLIC, PUBLIC), "key 'k1' is given twice"),
        (jwks({**PUBLIC, "kty": "RSA"}), "key 'k1' has kty 'RSA'; supported: OKP (Ed25519)"),
        (jwks({**PUBLIC, "crv": "Ed448"}), "key 'k1' has crv 'Ed448'"),
        (jwks({**PUBLIC, "alg": "HS256"}), "key 'k1' is a OKP key, so its alg can only be EdDSA"),
        (jwks({**PUBLIC, "x": "short"}), "key 'k1' is not a valid Ed25519 key"),
        (jwks(KEY.to_jwk()), "key 'k1' is a private key; give only its public part"),
        (jwks({**PUBLIC, "roles": "admin"}), "key 'k1': roles must be a list of names"),
        (jwks({**SHARED.to_jwk(), "k": "c2hvcnQ"}), "the secret is shorter than 32 bytes"),
    ],
)
def test_a_malformed_jwks_names_the_setting_and_the_key(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_jwks(value, allow_hs256=True)
    assert str(raised.value).startswith("AUTH_JWKS") and problem in str(raised.value)


def test_a_public_key_cannot_sign() -> None:
    with pytest.raises(SettingsError, match="AUTH_SIGNING_KEY: key 'k1' is a public key"):
        parse_signing_key(json.dumps(PUBLIC), allow_hs256=False)


def test_production_refuses_hs256_keys_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE", "production")
    monkeypatch.setenv("AUTH_JWKS", jwks(SHARED.verification_key().to_jwk()))
    monkeypatch.setenv("AUTH_SIGNING_KEY", json.dumps(SHARED.to_jwk()))
    for read in (AuthSettings.verification_keys, AuthSettings.signing_key):
        with pytest.raises(SettingsError) as raised:
            read(AuthSettings())
        assert "key 'shared' is an HS256 key (kty oct), refused when PROFILE=production" in str(
            raised.value
        ) and "AUTH_ALLOW_HS256=true" in str(raised.value)
    monkeypatch.setenv("AUTH_ALLOW_HS256", "true")
    assert AuthSettings().verification_keys().by_kid["shared"].algorithm == HS256
    assert AuthSettings().signing_key() == SHARED
    monkeypatch.setenv("AUTH_ALLOW_HS256", "false")
    monkeypatch.setenv("PROFILE", "development")
    assert AuthSettings().signing_key() == SHARED


def test_production_requires_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_JWKS", raising=False)
    monkeypatch.delenv("AUTH_SIGNING_KEY", raising=False)
    monkeypatch.setenv("PROFILE", "production")
    with pytest.raises(SettingsError, match="AUTH_JWKS is not set .*servicekit.auth.keygen"):
        AuthSettings().verification_keys()
    with pytest.raises(SettingsError, match="AUTH_SIGNING_KEY is not set"):
        AuthSettings().signing_key()


def test_the_verifier_takes_the_lifetime_and_deny_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_JWKS", jwks(PUBLIC))
    monkeypatch.setenv("AUTH_MAX_TOKEN_LIFETIME_SECONDS", "600")
    monkeypatch.setenv("AUTH_REVOKED_JTIS", "a1, b2,")
    verifier = AuthSettings().token_verifier("backend")
    assert verifier.max_lifetime_seconds == 600 and verifier.revoked_jtis == {"a1", "b2"}


def test_development_makes_one_private_key_per_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_JWKS", raising=False)
    monkeypatch.delenv("AUTH_SIGNING_KEY", raising=False)
    for attempt in range(20):  # the race between creating the file and writing it is narrow
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / str(attempt)))
        with ThreadPoolExecutor(8) as pool:  # processes starting at once share one key
            keys = list(pool.map(lambda _: AuthSettings().signing_key().to_jwk(), range(8)))
        assert all(key == keys[0] for key in keys) and keys[0]["alg"] == EDDSA
        path = tmp_path / str(attempt) / "specfirst" / "auth_signing_key.jwk"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert development_signing_key().to_jwk() == keys[0]
        assert AuthSettings().verification_keys() == VerificationKeys.of(
            development_signing_key().verification_key()
        )
        assert [file.name for file in path.parent.iterdir()] == ["auth_signing_key.jwk"]
