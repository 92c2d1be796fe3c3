"""Makes an Ed25519 key: `python -m servicekit.auth.keygen tg_bot-1 --private tg_bot.jwk --role
service --audience backend`.

Writes the private JWK (the issuer's AUTH_SIGNING_KEY) to the --private file, readable by its owner
only, and prints the public JWK, narrowed to the given roles and audiences (none: any), for the
verifiers' AUTH_JWKS: `{"keys": [<this>, <the other issuers' keys>]}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from servicekit.auth.keys import generate_signing_key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="keygen", description=__doc__.splitlines()[0])
    parser.add_argument("kid", help="the key's id (letters, digits, _ . -), new for each key")
    parser.add_argument("--private", type=Path, required=True, help="file for the private key")
    parser.add_argument("--role", action="append", help="a role its tokens may grant (repeatable)")
    parser.add_argument("--audience", action="append", help="a service it may sign for")
    args = parser.parse_args(argv)
    key = generate_signing_key(args.kid)
    try:
        # O_EXCL: an existing key is never overwritten; 0o600: the owner alone reads it.
        descriptor = os.open(args.private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        parser.error(f"cannot create {args.private}: {error.strerror}")
    with os.fdopen(descriptor, "w") as file:
        json.dump(key.to_jwk(), file)
    public = key.verification_key(args.role, args.audience)
    sys.stdout.write(json.dumps(public.to_jwk()) + "\n")


if __name__ == "__main__":
    main()
