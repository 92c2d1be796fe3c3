"""Minting and verifying bearer tokens (JWT through PyJWT: EdDSA, or HS256 in development)."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from servicekit.auth.keys import SigningKey, VerificationKeys

ADMIN = "admin"
LEEWAY_SECONDS = 30  # clock skew tolerated between the minting and the verifying machine
# Tokens verified lately, so a client's next request with the same token skips the signature
# check (about 0.1 ms of CPU); bounded, and each entry still expires with its token.
VERIFIED_CACHE_SIZE = 4096
# Longer tokens are refused unread: PyJWT's parsing costs time in proportion to the length, on
# the event loop, so a huge header must not reach it. Ours are about 250 bytes.
MAX_TOKEN_LENGTH = 4096
DEFAULT_MAX_LIFETIME_SECONDS = 86400  # AUTH_MAX_TOKEN_LIFETIME_SECONDS: a day


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


def new_jti() -> str:
    return uuid.uuid4().hex


def mint_token(
    key: SigningKey,
    subject: str,
    roles: Iterable[str],
    audience: str,
    ttl_seconds: int = 3600,
    jti: str | None = None,
) -> str:
    """A token signed with `key`; its jti (default: a new random id) is what the deny-list
    (AUTH_REVOKED_JTIS) names to revoke it."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": sorted(set(roles)),
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": jti or new_jti(),
    }
    return jwt.encode(claims, key.key, algorithm=key.algorithm, headers={"kid": key.kid})


class TokenVerifier:
    """Checks a token's key id, signature, expiry, lifetime, audience (the service's own name),
    that its key may grant its roles for that audience, and that its jti is not revoked."""

    def __init__(
        self,
        keys: VerificationKeys,
        audience: str,
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
        revoked_jtis: frozenset[str] = frozenset(),
    ) -> None:
        self.keys = keys
        self.audience = audience
        self.max_lifetime_seconds = max_lifetime_seconds
        # Fixed for the process's life, so a token in the cache below was checked against it.
        self.revoked_jtis = revoked_jtis
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
            key = self.keys.by_kid.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken("the token's key id is unknown")
            claims = jwt.decode(
                token,
                key.key,
                # The key's own algorithm, never the header's choice: no "none", no HS256 token
                # "signed" with a public key.
                algorithms=[key.algorithm],
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet (check the clocks)") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"the token is not for {self.audience}") from None
        except jwt.MissingRequiredClaimError as missing:
            raise InvalidToken(f"the token has no {missing.claim} claim") from None
        except jwt.PyJWTError:
            raise InvalidToken("the token is malformed or its signature is wrong") from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidToken("the token's roles are not a list of names")
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.max_lifetime_seconds:
            raise InvalidToken(
                f"the token lives {lifetime} s (exp - iat), longer than the "
                f"{self.max_lifetime_seconds} s this service accepts"
            )
        if key.roles is not None and not key.roles.issuperset(roles):
            beyond = ", ".join(sorted(set(roles) - key.roles))
            raise InvalidToken(f"the token's key '{key.kid}' may not grant the roles: {beyond}")
        if key.audiences is not None and self.audience not in key.audiences:
            raise InvalidToken(f"the token's key '{key.kid}' may not sign for {self.audience}")
        if claims["jti"] in self.revoked_jtis:
            raise InvalidToken("the token has been revoked")
        principal = Principal(subject=str(claims["sub"]), roles=frozenset(roles))
        return principal, float(claims["exp"]) + LEEWAY_SECONDS
