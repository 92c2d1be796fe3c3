"""What a service reads to sign or check tokens (servicekit.auth.keys says what the keys are)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.auth.keys import (
    SigningKey,
    VerificationKeys,
    development_signing_key,
    parse_jwks,
    parse_signing_key,
)
from servicekit.auth.tokens import DEFAULT_MAX_LIFETIME_SECONDS, TokenVerifier
from servicekit.settings import SettingsError

Profile = Literal["development", "production"]
KEYGEN = "python -m servicekit.auth.keygen"


class AuthSettings(BaseSettings):
    """Services' settings classes inherit it."""

    model_config = SettingsConfigDict(extra="ignore")

    profile: Profile = Field(default="development", validation_alias=AliasChoices("PROFILE"))
    # The public keys whose tokens this service accepts (a JWK Set): verifying services.
    auth_jwks: str | None = Field(default=None, validation_alias=AliasChoices("AUTH_JWKS"))
    # The private key this process signs its tokens with (a JWK): the mint command, callers.
    auth_signing_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AUTH_SIGNING_KEY")
    )
    # Shared-secret keys (kty oct) are for development; production takes them only when asked.
    auth_allow_hs256: bool = Field(default=False, validation_alias=AliasChoices("AUTH_ALLOW_HS256"))
    auth_max_token_lifetime_seconds: int = Field(
        default=DEFAULT_MAX_LIFETIME_SECONDS,
        ge=1,
        validation_alias=AliasChoices("AUTH_MAX_TOKEN_LIFETIME_SECONDS"),
    )
    # Revoked tokens' jti values, comma-separated; read at start-up (docs: README, security).
    auth_revoked_jtis: str = Field(default="", validation_alias=AliasChoices("AUTH_REVOKED_JTIS"))

    @property
    def _hs256_allowed(self) -> bool:
        return self.profile == "development" or self.auth_allow_hs256

    def verification_keys(self) -> VerificationKeys:
        """AUTH_JWKS; SettingsError if malformed, or missing in production."""
        if self.auth_jwks is not None:
            return parse_jwks(self.auth_jwks, self._hs256_allowed)
        self._require_in_production("AUTH_JWKS", "a JWK Set of the token issuers' public keys")
        return VerificationKeys.of(development_signing_key().verification_key())

    def signing_key(self) -> SigningKey:
        """AUTH_SIGNING_KEY; SettingsError if malformed, or missing in production."""
        if self.auth_signing_key is not None:
            return parse_signing_key(self.auth_signing_key.get_secret_value(), self._hs256_allowed)
        self._require_in_production("AUTH_SIGNING_KEY", "this issuer's private key (a JWK)")
        return development_signing_key()

    def token_verifier(self, audience: str, keys: VerificationKeys | None = None) -> TokenVerifier:
        """The verifier of tokens for `audience`: `keys` (tests give theirs) or AUTH_JWKS, with
        the maximum lifetime and the deny-list."""
        return TokenVerifier(
            keys or self.verification_keys(),
            audience,
            self.auth_max_token_lifetime_seconds,
            frozenset(jti.strip() for jti in self.auth_revoked_jtis.split(",") if jti.strip()),
        )

    def _require_in_production(self, variable: str, what: str) -> None:
        if self.profile == "production":
            raise SettingsError(
                f"{variable} is not set (required when PROFILE=production): {what}; "
                f"`{KEYGEN} --help` makes keys"
            )
