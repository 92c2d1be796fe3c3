"""Tokens as the mint command and a service's own client make them, checked by the verifier."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import pytest

from servicekit.auth.keys import generate_key_set, parse_keys
from servicekit.auth.tokens import (
    LEEWAY_SECONDS,
    InvalidToken,
    Principal,
    TokenVerifier,
    mint_token,
)
from servicekit.auth.tokens_testutil import TEST_AUTH_KEYS, TEST_KEYS

VERIFIER = TokenVerifier(TEST_KEYS, audience="backend")


def mint(*arguments: str, keys: str = TEST_AUTH_KEYS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicekit.auth.mint", *arguments],
        env={
            "AUTH_KEYS": keys,
            "PROFILE": "production",
            "PYTHONPATH": os.pathsep.join(sys.path),  # this test's own imports
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_mint_command_makes_tokens_the_services_accept() -> None:
    admin = mint("admin", "--audience", "backend")
    user = mint("user", "--audience", "backend", "--subject", "42", "--role", "editor")
    assert admin.returncode == 0 and user.returncode == 0, admin.stderr + user.stderr
    assert VERIFIER.verify(admin.stdout.strip()) == Principal("admin", frozenset({"admin", "user"}))
    assert VERIFIER.verify(user.stdout.strip()) == Principal("42", frozenset({"user", "editor"}))


def test_the_mint_command_explains_what_is_missing() -> None:
    no_subject = mint("user", "--audience", "backend")
    no_keys = mint("admin", "--audience", "backend", keys="")
    assert no_subject.returncode == 2 and "a user token needs --subject" in no_subject.stderr
    assert no_keys.returncode != 0 and "AUTH_KEYS" in no_keys.stderr
    assert "Traceback" not in no_keys.stderr + no_subject.stderr


def test_a_rotated_key_still_verifies_until_it_is_dropped() -> None:
    old = parse_keys(generate_key_set("old"))
    token = mint_token(old, "7", ["user"], "backend")
    rotated = parse_keys(f"{generate_key_set('new')},old:{old.signing_secret.decode()}")
    assert TokenVerifier(rotated, "backend").verify(token).subject == "7"
    with pytest.raises(InvalidToken, match="key id is unknown"):
        TokenVerifier(parse_keys(generate_key_set("new")), "backend").verify(token)


def test_roles_that_are_not_a_list_of_names_are_refused() -> None:
    token = jwt.encode(
        {"sub": "1", "roles": "admin", "aud": "backend", "iat": 0, "exp": 2**40},
        TEST_KEYS.signing_secret,
        algorithm="HS256",
        headers={"kid": TEST_KEYS.signing_kid},
    )
    with pytest.raises(InvalidToken, match="roles"):
        VERIFIER.verify(token)


def test_a_token_seen_before_is_still_refused_once_it_expires() -> None:
    verifier = TokenVerifier(TEST_KEYS, audience="backend")
    # Past its expiry by all of the leeway but three seconds: accepted for two to three more.
    token = mint_token(TEST_KEYS, "7", ["user"], "backend", ttl_seconds=3 - LEEWAY_SECONDS)
    assert verifier.verify(token).subject == "7"
    assert verifier.verify(token).subject == "7"  # from the cache
    time.sleep(3.2)
    for _ in range(2):  # from the cache, then checked afresh
        with pytest.raises(InvalidToken, match="expired"):
            verifier.verify(token)


def test_a_refused_token_is_never_remembered() -> None:
    verifier = TokenVerifier(TEST_KEYS, audience="backend")
    other = mint_token(parse_keys(generate_key_set("test")), "admin", ["admin"], "backend")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature"):
            verifier.verify(other)


def test_an_oversized_token_is_refused_unread() -> None:
    # A huge header would cost PyJWT time in proportion to its length, on the event loop.
    token = mint_token(TEST_KEYS, "7", ["user"], "backend") + "A" * 100_000
    started = time.process_time()
    for _ in range(100):
        with pytest.raises(InvalidToken, match="longer than"):
            VERIFIER.verify(token)
    assert time.process_time() - started < 0.5
