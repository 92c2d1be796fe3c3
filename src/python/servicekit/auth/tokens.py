"""Minting and verifying bearer tokens (JWT, HS256 through PyJWT)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from servicekit.auth.keys import KeySet

ALGORITHM = "HS256"
ADMIN = "admin"
LEEWAY_SECONDS = 30  # clock skew tolerated between the minting and the verifying machine
# Tokens verified lately, so a client's next request with the same token skips the signature
# check (about 0.1 ms of CPU); bounded, and each entry still expires with its token.
VERIFIED_CACHE_SIZE = 4096
# Longer tokens are refused unread: PyJWT's parsing costs time in proportion to the length, on
# the event loop, so a huge header must not reach it. Ours are about 250 bytes.
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Principal:
    """The verified caller: the token's subject (a user id, a service name) and roles."""

    subject: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


class InvalidToken(Exception):
    """A token that does not verify; the message says why, without echoing the token."""


def mint_token(
    keys: KeySet, subject: str, roles: Iterable[str], audience: str, ttl_seconds: int = 3600
) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": sorted(set(roles)),
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(
        claims, keys.signing_secret, algorithm=ALGORITHM, headers={"kid": keys.signing_kid}
    )


class TokenVerifier:
    """Checks a token's key id, signature, expiry and audience (the service's own name)."""

    def __init__(self, keys: KeySet, audience: str) -> None:
        self.keys = keys
        self.audience = audience
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires_at = cached
            if time.time() <= expires_at:
                return principal
            del self._verified[token]
            raise InvalidToken("the token has expired")
        principal, expires_at = self._check(token)
        self._verified[token] = (principal, expires_at)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)  # the oldest
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            secret = self.keys.secrets.get(kid) if isinstance(kid, str) else None
            if secret is None:
                raise InvalidToken("the token's key id is unknown")
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],  # never the header's choice: no "none", no key confusion
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet (check the clocks)") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"the token is not for {self.audience}") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed or its signature is wrong") from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidToken("the token's roles are not a list of names")
        principal = Principal(subject=str(claims["sub"]), roles=frozenset(roles))
        return principal, float(claims["exp"]) + LEEWAY_SECONDS
