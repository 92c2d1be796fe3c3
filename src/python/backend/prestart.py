"""The step before any replica starts (the migration job `backend-migrate`): wait for the database,
migrate it to head once, then give the application its role. Replicas never migrate a database they
did not start.

`python -m backend.prestart` with DATABASE_URL (the application's role) and DATABASE_OWNER_URL (the
database's owner, who migrates and creates the role: backend.app_role). Without DATABASE_OWNER_URL
the migrations run as DATABASE_URL's role and no role is created.
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import AliasChoices, Field, PostgresDsn

from backend.alembic_cli import upgrade_to_head
from backend.app_role import AppRoleError, grant_app_role
from servicekit.database import wait_for_database
from backend.settings import Settings
from servicekit.logs import configure_logging
from servicekit.settings import exit_on_settings_error, read_settings
from servicekit.startup import exit_when_unreachable

PROGRAM = "backend-prestart"


class PrestartSettings(Settings):
    # Read like DATABASE_URL: the variable, else /run/secrets/database_owner_url.
    database_owner_url: PostgresDsn | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_OWNER_URL")
    )


def main() -> None:
    # Not load_settings(): the job needs no REDIS_URL.
    with exit_on_settings_error(PROGRAM):
        settings = read_settings(PrestartSettings)
    configure_logging(settings, settings.log_level, settings.log_format)
    if settings.database_url is None:
        sys.exit(f"{PROGRAM}: DATABASE_URL is not set")
    app_url = str(settings.database_url)
    owner_url = str(settings.database_owner_url or app_url)
    with exit_when_unreachable(PROGRAM):
        asyncio.run(wait_for_database(owner_url, settings.startup_timeout_seconds))
    upgrade_to_head(owner_url)
    if settings.database_owner_url is not None:
        try:
            asyncio.run(grant_app_role(owner_url, app_url))
        except AppRoleError as error:
            sys.exit(f"{PROGRAM}: {error}")


if __name__ == "__main__":
    main()
