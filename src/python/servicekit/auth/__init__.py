"""Bearer tokens for the services: signed JWTs with a key id, expiry, audience and roles.

`keys` reads the key set (AUTH_KEYS), `tokens` mints and verifies, `guards` turns a spec's `auth`
into FastAPI dependencies, `client` signs a service's own calls, `mint` is the command line.
"""

from servicekit.auth.guards import Authenticator
from servicekit.auth.keys import AuthSettings, KeySet
from servicekit.auth.tokens import InvalidToken, Principal, TokenVerifier, mint_token

__all__ = [
    "AuthSettings",
    "Authenticator",
    "InvalidToken",
    "KeySet",
    "Principal",
    "TokenVerifier",
    "mint_token",
]
