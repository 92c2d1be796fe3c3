"""Keys and tokens for tests: keys of the test run's own, and headers that carry tokens.

As in a deployment: the operator's key (the mint command's) may grant any role; the calling
services' key is admitted for the role service only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from servicekit.auth.client import SERVICE
from servicekit.auth.keys import SigningKey, VerificationKeys, generate_signing_key
from servicekit.auth.mint import ROLES_OF_KIND
from servicekit.auth.tokens import mint_token

TEST_SIGNING_KEY = generate_signing_key("test")
TEST_SERVICE_SIGNING_KEY = generate_signing_key("test-service")
TEST_KEYS = VerificationKeys.of(
    TEST_SIGNING_KEY.verification_key(),
    TEST_SERVICE_SIGNING_KEY.verification_key(roles=[SERVICE]),
)
# The settings of services a test starts: AUTH_JWKS of a verifier, AUTH_SIGNING_KEY of a caller.
TEST_AUTH_JWKS = TEST_KEYS.to_json()
TEST_SERVICE_AUTH_SIGNING_KEY = json.dumps(TEST_SERVICE_SIGNING_KEY.to_jwk())


def bearer(
    audience: str,
    kind: str = "admin",
    subject: str | None = None,
    roles: Iterable[str] = (),
    key: SigningKey = TEST_SIGNING_KEY,
    ttl_seconds: int = 3600,
) -> dict[str, str]:
    """`{"Authorization": "Bearer ..."}` with a token as `mint <kind>` would make it."""
    token = mint_token(key, subject or kind, [*ROLES_OF_KIND[kind], *roles], audience, ttl_seconds)
    return {"Authorization": f"Bearer {token}"}
