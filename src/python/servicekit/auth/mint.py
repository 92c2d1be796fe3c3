"""Mints a bearer token: `python -m servicekit.auth.mint admin --audience backend`.

Kinds: `user --subject <id>` (role user), `admin` (roles admin and user), `service --subject
<name>` (role service); `--role` adds more. The key comes from AUTH_KEYS, or in development from
this machine's key, which the services started with `./pants run` use too.
"""

from __future__ import annotations

import argparse
import sys

from servicekit.auth.keys import AuthSettings
from servicekit.auth.tokens import ADMIN, mint_token
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
        keys = read_settings(AuthSettings).key_set()
    roles = ROLES_OF_KIND[args.kind] + args.role
    sys.stdout.write(mint_token(keys, subject, roles, args.audience, args.ttl) + "\n")


if __name__ == "__main__":
    main()
