"""Mints a bearer token: `python -m servicekit.auth.mint admin --audience backend`.

Kinds: `user --subject <id>` (role user), `admin` (roles admin and user), `service --subject
<name>` (role service); `--role` adds more. The key comes from AUTH_SIGNING_KEY, or in development
from this machine's key, which the services started with `./pants run` use too. The token's jti
goes to stderr: AUTH_REVOKED_JTIS takes it to revoke the token.
"""

from __future__ import annotations

import argparse
import sys

from servicekit.auth.settings import AuthSettings
from servicekit.auth.tokens import ADMIN, mint_token, new_jti
from servicekit.settings import exit_on_settings_error, read_settings

ROLES_OF_KIND = {"user": ["user"], "admin": [ADMIN, "user"], "service": ["service"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mint", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(ROLES_OF_KIND))
    parser.add_argument("--audience", required=True, help="the service that will check it")
    parser.add_argument("--subject", help="user id or service name (admin: default 'admin')")
    parser.add_argument("--role", action="append", default=[], help="an extra role (repeatable)")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    args = parser.parse_args(argv)
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    subject = args.subject or ("admin" if args.kind == "admin" else None)
    if not subject:
        parser.error(f"a {args.kind} token needs --subject")
    with exit_on_settings_error("mint"):
        settings = read_settings(AuthSettings)
        key = settings.signing_key()
    if args.ttl > settings.auth_max_token_lifetime_seconds:
        parser.error(
            f"--ttl {args.ttl} is longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS "
            f"({settings.auth_max_token_lifetime_seconds}): services would refuse the token"
        )
    roles = ROLES_OF_KIND[args.kind] + args.role
    jti = new_jti()
    sys.stdout.write(mint_token(key, subject, roles, args.audience, args.ttl, jti) + "\n")
    sys.stderr.write(f"mint: jti {jti}\n")


if __name__ == "__main__":
    main()
