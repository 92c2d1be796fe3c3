"""Tokens as the mint command and a service's own client make them, checked by the verifier."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import pytest

from servicekit.auth.keys import generate_key_set, parse_keys
from servicekit.auth.tokens import InvalidToken, Principal, TokenVerifier, mint_token
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
