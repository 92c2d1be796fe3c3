"""Tokens as the mint command and a service's own client make them, checked by the verifier."""

from __future__ import annotations

import base64
import functools
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from servicekit.auth.keys import HS256, SigningKey, VerificationKeys, generate_signing_key
from servicekit.auth.tokens import (
    LEEWAY_SECONDS,
    InvalidToken,
    Principal,
    TokenVerifier,
    mint_token,
)
from servicekit.auth.tokens_testutil import (
    TEST_KEYS,
    TEST_SERVICE_SIGNING_KEY,
    TEST_SIGNING_KEY,
)

VERIFIER = TokenVerifier(TEST_KEYS, audience="backend")
SIGNING_KEY_JSON = json.dumps(TEST_SIGNING_KEY.to_jwk())


def mint(*arguments: str, key: str = SIGNING_KEY_JSON) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicekit.auth.mint", *arguments],
        env={
            "AUTH_SIGNING_KEY": key,
            "PROFILE": "production",
            "PYTHONPATH": os.pathsep.join(sys.path),  # this test's own imports
        },
        capture_output=True,
        text=True,
        check=False,
    )


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "1", "roles": ["user"], "aud": "backend", "iat": now, "exp": now + 60,
            "jti": "j1", **overrides}  # fmt: skip


def test_the_mint_command_makes_tokens_the_services_accept() -> None:
    admin = mint("admin", "--audience", "backend")
    user = mint("user", "--audience", "backend", "--subject", "42", "--role", "editor")
    assert admin.returncode == 0 and user.returncode == 0, admin.stderr + user.stderr
    assert VERIFIER.verify(admin.stdout.strip()) == Principal("admin", frozenset({"admin", "user"}))
    assert VERIFIER.verify(user.stdout.strip()) == Principal("42", frozenset({"user", "editor"}))
    jti = jwt.decode(admin.stdout.strip(), options={"verify_signature": False})["jti"]
    assert admin.stderr == f"mint: jti {jti}\n"


def test_the_mint_command_explains_what_is_missing() -> None:
    no_subject = mint("user", "--audience", "backend")
    no_key = mint("admin", "--audience", "backend", key="")
    too_long = mint("admin", "--audience", "backend", "--ttl", "90000")
    assert no_subject.returncode == 2 and "a user token needs --subject" in no_subject.stderr
    assert no_key.returncode != 0 and "AUTH_SIGNING_KEY" in no_key.stderr
    assert too_long.returncode == 2 and "AUTH_MAX_TOKEN_LIFETIME_SECONDS (86400)" in too_long.stderr
    assert "Traceback" not in no_key.stderr + no_subject.stderr + too_long.stderr


def test_tokens_are_eddsa_with_a_jti_each() -> None:
    first, second = (mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend") for _ in range(2))
    assert jwt.get_unverified_header(first)["alg"] == "EdDSA"
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in (first, second)}
    assert len(jtis) == 2


def test_a_rotated_key_still_verifies_until_it_is_dropped() -> None:
    old, new = generate_signing_key("old"), generate_signing_key("new")
    old_token = mint_token(old, "7", ["user"], "backend")
    new_token = mint_token(new, "8", ["user"], "backend")
    rotating = TokenVerifier(
        VerificationKeys.of(new.verification_key(), old.verification_key()), "backend"
    )
    assert rotating.verify(old_token).subject == "7"
    assert rotating.verify(new_token).subject == "8"
    with pytest.raises(InvalidToken, match="key id is unknown"):
        TokenVerifier(VerificationKeys.of(new.verification_key()), "backend").verify(old_token)


def test_a_service_key_cannot_grant_more_than_its_roles_and_audiences() -> None:
    keys = VerificationKeys.of(
        TEST_SERVICE_SIGNING_KEY.verification_key(roles=["service"], audiences=["backend"])
    )
    service = mint_token(TEST_SERVICE_SIGNING_KEY, "tg_bot", ["service"], "backend")
    admin = mint_token(TEST_SERVICE_SIGNING_KEY, "tg_bot", ["admin", "service"], "backend")
    elsewhere = mint_token(TEST_SERVICE_SIGNING_KEY, "tg_bot", ["service"], "billing")
    assert TokenVerifier(keys, "backend").verify(service).roles == {"service"}
    with pytest.raises(InvalidToken, match="key 'test-service' may not grant the roles: admin"):
        TokenVerifier(keys, "backend").verify(admin)
    with pytest.raises(InvalidToken, match="key 'test-service' may not sign for billing"):
        TokenVerifier(keys, "billing").verify(elsewhere)


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    token = mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend", ttl_seconds=86400 + 1)
    with pytest.raises(InvalidToken, match="lives 86401 s .*longer than the 86400 s"):
        VERIFIER.verify(token)
    short = TokenVerifier(TEST_KEYS, "backend", max_lifetime_seconds=60)
    with pytest.raises(InvalidToken, match="longer than the 60 s"):
        short.verify(mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend", ttl_seconds=61))


def test_a_revoked_jti_is_refused_and_others_are_not() -> None:
    verifier = TokenVerifier(TEST_KEYS, "backend", revoked_jtis=frozenset({"stolen"}))
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend", jti="stolen"))
    assert verifier.verify(mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend")).subject == "7"


def test_a_token_without_a_jti_is_refused() -> None:
    token = jwt.encode(
        {key: value for key, value in claims().items() if key != "jti"},
        TEST_SIGNING_KEY.key,
        algorithm="EdDSA",
        headers={"kid": "test"},
    )
    with pytest.raises(InvalidToken, match="no jti claim"):
        VERIFIER.verify(token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(alg: str, sign: Callable[[bytes], bytes]) -> str:
    """An admin token under the test key's kid, with the header's `alg` and `sign`'s signature."""
    header = {"alg": alg, "typ": "JWT", "kid": "test"}
    parts = (header, claims(roles=["admin"]))
    signing_input = ".".join(_b64(json.dumps(part).encode()) for part in parts)
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


PUBLIC = TEST_SIGNING_KEY.verification_key().key
assert isinstance(PUBLIC, Ed25519PublicKey)
# What any verifier knows of the key, which an attacker would try as an HS256 secret.
PUBLIC_FORMS = {
    "raw": PUBLIC.public_bytes(Encoding.Raw, PublicFormat.Raw),
    "PEM": PUBLIC.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    "JWK x": TEST_SIGNING_KEY.verification_key().to_jwk()["x"].encode(),
}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forged("none", lambda _: b""), id="alg none"),
        *(
            pytest.param(
                forged("HS256", functools.partial(hmac.digest, secret, digest="sha256")),
                id=f"HS256 keyed with the public key ({form})",
            )
            for form, secret in PUBLIC_FORMS.items()
        ),
    ],
)
def test_the_algorithm_is_the_keys_never_the_headers(token: str) -> None:
    with pytest.raises(InvalidToken, match="malformed or its signature is wrong"):
        VERIFIER.verify(token)


def test_an_hs256_key_verifies_only_hs256_tokens() -> None:
    shared = SigningKey("shared", HS256, b"s" * 32)
    verifier = TokenVerifier(VerificationKeys.of(shared.verification_key()), "backend")
    assert verifier.verify(mint_token(shared, "7", ["user"], "backend")).subject == "7"
    eddsa = jwt.encode(claims(), TEST_SIGNING_KEY.key, algorithm="EdDSA", headers={"kid": "shared"})
    with pytest.raises(InvalidToken, match="signature is wrong"):
        verifier.verify(eddsa)


def test_roles_that_are_not_a_list_of_names_are_refused() -> None:
    token = jwt.encode(
        claims(roles="admin"), TEST_SIGNING_KEY.key, algorithm="EdDSA", headers={"kid": "test"}
    )
    with pytest.raises(InvalidToken, match="roles"):
        VERIFIER.verify(token)


def test_a_token_seen_before_is_still_refused_once_it_expires() -> None:
    verifier = TokenVerifier(TEST_KEYS, audience="backend")
    # Past its expiry by all of the leeway but three seconds: accepted for two to three more.
    token = mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend", ttl_seconds=3 - LEEWAY_SECONDS)
    assert verifier.verify(token).subject == "7"
    assert verifier.verify(token).subject == "7"  # from the cache
    time.sleep(3.2)
    for _ in range(2):  # from the cache, then checked afresh
        with pytest.raises(InvalidToken, match="expired"):
            verifier.verify(token)


def test_a_refused_token_is_never_remembered() -> None:
    verifier = TokenVerifier(TEST_KEYS, audience="backend")
    other = mint_token(generate_signing_key("test"), "admin", ["admin"], "backend")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature"):
            verifier.verify(other)


def test_an_oversized_token_is_refused_unread() -> None:
    # A huge header would cost PyJWT time in proportion to its length, on the event loop.
    token = mint_token(TEST_SIGNING_KEY, "7", ["user"], "backend") + "A" * 100_000
    started = time.process_time()
    for _ in range(100):
        with pytest.raises(InvalidToken, match="longer than"):
            VERIFIER.verify(token)
    assert time.process_time() - started < 0.5
