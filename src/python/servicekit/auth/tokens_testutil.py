"""Keys and tokens for tests: a key set of the test run's own, and headers that carry tokens."""

from __future__ import annotations

from collections.abc import Iterable

from servicekit.auth.keys import KeySet, generate_key_set, parse_keys
from servicekit.auth.mint import ROLES_OF_KIND
from servicekit.auth.tokens import mint_token

TEST_AUTH_KEYS = generate_key_set("test")  # the AUTH_KEYS of services a test starts
TEST_KEYS: KeySet = parse_keys(TEST_AUTH_KEYS)


def bearer(
    audience: str,
    kind: str = "admin",
    subject: str | None = None,
    roles: Iterable[str] = (),
    keys: KeySet = TEST_KEYS,
    ttl_seconds: int = 3600,
) -> dict[str, str]:
    """`{"Authorization": "Bearer ..."}` with a token as `mint <kind>` would make it."""
    token = mint_token(keys, subject or kind, [*ROLES_OF_KIND[kind], *roles], audience, ttl_seconds)
    return {"Authorization": f"Bearer {token}"}
