"""The keys that sign and verify tokens, as JSON Web Keys (RFC 7517).

A verifying service reads AUTH_JWKS (or the secret file auth_jwks): a JWK Set of public keys, each
with its `kid`. Ed25519 keys (`"kty": "OKP", "crv": "Ed25519"`) verify EdDSA tokens; `oct` keys
verify HS256 tokens, in development only unless AUTH_ALLOW_HS256=true. A key may carry two members
of ours that narrow what it vouches for: `roles` (the roles its tokens may grant) and `audiences`
(the services they may be for); without them a key vouches for any. A key rotates by adding its
successor to the set, signing with the successor, and dropping the old key once its tokens expire.

A signing process (the mint command, a service calling another) reads AUTH_SIGNING_KEY (or the
secret file auth_signing_key): one private JWK. `python -m servicekit.auth.keygen` makes both.

In the development profile without them, an Ed25519 key made once per machine (under the user's
cache directory) signs and verifies, for the services and the mint command alike.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import HMACAlgorithm, OKPAlgorithm

from servicekit.settings import SettingsError

EDDSA = "EdDSA"
HS256 = "HS256"
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash (RFC 7518 3.2)
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# The algorithm each key type verifies: fixed by the key, never taken from a token's header.
_ALGORITHM_OF_KTY = {"OKP": EDDSA, "oct": HS256}


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithm: str
    key: Ed25519PublicKey | bytes
    roles: frozenset[str] | None = None  # the roles its tokens may grant; None: any
    audiences: frozenset[str] | None = None  # the services its tokens may be for; None: any

    def to_jwk(self) -> dict[str, Any]:
        jwk = _jwk(self.kid, self.algorithm, self.key)
        if self.roles is not None:
            jwk["roles"] = sorted(self.roles)
        if self.audiences is not None:
            jwk["audiences"] = sorted(self.audiences)
        return jwk


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    key: Ed25519PrivateKey | bytes

    def to_jwk(self) -> dict[str, Any]:
        return _jwk(self.kid, self.algorithm, self.key)

    def verification_key(
        self, roles: Iterable[str] | None = None, audiences: Iterable[str] | None = None
    ) -> VerificationKey:
        """What verifiers hold for this key (an HS256 key is its own), narrowed as given."""
        public = self.key if isinstance(self.key, bytes) else self.key.public_key()
        return VerificationKey(
            self.kid,
            self.algorithm,
            public,
            None if roles is None else frozenset(roles),
            None if audiences is None else frozenset(audiences),
        )


@dataclass(frozen=True)
class VerificationKeys:
    """The keys a service accepts tokens from, by kid."""

    by_kid: Mapping[str, VerificationKey]

    @classmethod
    def of(cls, *keys: VerificationKey) -> VerificationKeys:
        return cls({key.kid: key for key in keys})

    def to_json(self) -> str:
        """The JWK Set, as AUTH_JWKS takes it."""
        return json.dumps({"keys": [key.to_jwk() for key in self.by_kid.values()]})


def _jwk(
    kid: str, algorithm: str, key: Ed25519PrivateKey | Ed25519PublicKey | bytes
) -> dict[str, Any]:
    if isinstance(key, bytes):
        jwk = HMACAlgorithm.to_jwk(key, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    jwk.update(kid=kid, alg=algorithm)
    return jwk


def generate_signing_key(kid: str, algorithm: str = EDDSA) -> SigningKey:
    if algorithm == HS256:
        return SigningKey(kid, HS256, secrets.token_bytes(MIN_SECRET_BYTES))
    return SigningKey(kid, EDDSA, Ed25519PrivateKey.generate())


def parse_jwks(text: str, allow_hs256: bool, setting: str = "AUTH_JWKS") -> VerificationKeys:
    """A JWK Set of public keys; SettingsError naming `setting` and the key for what is wrong."""
    document = _json(text, setting)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SettingsError(f'{setting}: expected a JWK Set, {{"keys": [...]}} with a key or more')
    keys: dict[str, VerificationKey] = {}
    for position, entry in enumerate(entries, start=1):
        key = _verification_key(entry, f"{setting}: key {position}", allow_hs256, setting)
        if key.kid in keys:
            raise SettingsError(f"{setting}: key '{key.kid}' is given twice")
        keys[key.kid] = key
    return VerificationKeys(keys)


def parse_signing_key(
    text: str, allow_hs256: bool, setting: str = "AUTH_SIGNING_KEY"
) -> SigningKey:
    """One private JWK; SettingsError naming `setting` and the key for what is wrong."""
    entry = _json(text, setting)
    kid, algorithm = _kid_and_algorithm(entry, setting, allow_hs256, setting)
    where = f"{setting}: key '{kid}'"
    if algorithm == HS256:
        return SigningKey(kid, HS256, _secret(entry, where))
    if "d" not in entry:
        raise SettingsError(f"{where} is a public key; signing needs the private key (member d)")
    private = _okp(entry, where)
    assert isinstance(private, Ed25519PrivateKey)
    return SigningKey(kid, EDDSA, private)


def _verification_key(entry: Any, where: str, allow_hs256: bool, setting: str) -> VerificationKey:
    kid, algorithm = _kid_and_algorithm(entry, where, allow_hs256, setting)
    where = f"{setting}: key '{kid}'"
    if algorithm == HS256:
        key: Ed25519PublicKey | bytes = _secret(entry, where)
    elif "d" in entry:  # a verifier never needs a private key: refused rather than spread
        raise SettingsError(f"{where} is a private key; give only its public part (no member d)")
    else:
        public = _okp(entry, where)
        assert isinstance(public, Ed25519PublicKey)
        key = public
    return VerificationKey(
        kid,
        algorithm,
        key,
        _names(entry, "roles", where),
        _names(entry, "audiences", where),
    )


def _kid_and_algorithm(entry: Any, where: str, allow_hs256: bool, setting: str) -> tuple[str, str]:
    if not isinstance(entry, dict):
        raise SettingsError(f"{where} is not a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not _KEY_ID.match(kid):
        raise SettingsError(f"{where} needs a kid of letters, digits, _ . - (at most 64)")
    where = f"{setting}: key '{kid}'"
    algorithm = _ALGORITHM_OF_KTY.get(entry.get("kty"))  # type: ignore[arg-type]
    if algorithm is None:
        raise SettingsError(
            f"{where} has kty {entry.get('kty')!r}; supported: OKP (Ed25519), oct (HS256)"
        )
    if entry.get("alg", algorithm) != algorithm:
        raise SettingsError(f"{where} is a {entry['kty']} key, so its alg can only be {algorithm}")
    if algorithm == HS256 and not allow_hs256:
        raise SettingsError(
            f"{where} is an HS256 key (kty oct), refused when PROFILE=production: use an Ed25519 "
            "key, or set AUTH_ALLOW_HS256=true to accept shared secrets"
        )
    return kid, algorithm


def _okp(entry: dict[str, Any], where: str) -> Ed25519PrivateKey | Ed25519PublicKey:
    if entry.get("crv") != "Ed25519":
        raise SettingsError(f"{where} has crv {entry.get('crv')!r}; supported: Ed25519")
    try:
        key = OKPAlgorithm.from_jwk(entry)
    except Exception:  # PyJWT raises several kinds for a bad x or d
        raise SettingsError(f"{where} is not a valid Ed25519 key (members x, d)") from None
    assert isinstance(key, (Ed25519PrivateKey, Ed25519PublicKey))
    return key


def _secret(entry: dict[str, Any], where: str) -> bytes:
    try:
        secret = HMACAlgorithm.from_jwk(entry)
    except Exception:
        raise SettingsError(f"{where} is not a valid oct key (member k, base64url)") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise SettingsError(f"{where}: the secret is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


def _names(entry: dict[str, Any], member: str, where: str) -> frozenset[str] | None:
    value = entry.get(member)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(name, str) and _NAME.match(name) for name in value
    ):
        raise SettingsError(f"{where}: {member} must be a list of names")
    return frozenset(value)


def _json(text: str, setting: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{setting} is not JSON ({error.msg} at position {error.pos})"
        ) from None


def development_key_file() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "specfirst" / "auth_signing_key.jwk"


def development_signing_key() -> SigningKey:
    """This machine's development key, made on first use (readable by its owner only)."""
    path = development_key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under another name (mkstemp: owner only), then linked into place: of
        # processes starting at once the first link wins, and none reads a half-written file.
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as file:
            json.dump(generate_signing_key("dev").to_jwk(), file)
        try:
            os.link(file.name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(file.name)
    text = path.read_text().strip()
    if not text:
        raise SettingsError(
            f"the development key file {path} is empty; delete it to make a new one"
        )
    return parse_signing_key(text, allow_hs256=True, setting=str(path))
