"""Bearer tokens for the services: signed JWTs with a key id, expiry, audience, roles and jti.

`keys` reads the keys (JWKs: AUTH_JWKS to verify, AUTH_SIGNING_KEY to sign), `settings` the
settings, `tokens` mints and verifies, `guards` turns a spec's `auth` into FastAPI dependencies,
`client` signs a service's own calls, `mint` and `keygen` are the command lines.
"""

from servicekit.auth.guards import Authenticator
from servicekit.auth.keys import SigningKey, VerificationKeys
from servicekit.auth.settings import AuthSettings
from servicekit.auth.tokens import InvalidToken, Principal, TokenVerifier, mint_token

__all__ = [
    "AuthSettings",
    "Authenticator",
    "InvalidToken",
    "Principal",
    "SigningKey",
    "TokenVerifier",
    "VerificationKeys",
    "mint_token",
]
