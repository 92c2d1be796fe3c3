"""The step before any replica starts (the Compose job `backend-migrate`): wait for the database,
then migrate it to head, once. Replicas themselves never migrate a database they did not start.

`python -m backend.prestart` with DATABASE_URL set.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from backend.alembic_cli import upgrade_to_head
from backend.db import wait_for_database
from backend.settings import load_settings
from servicekit.settings import exit_on_settings_error
from servicekit.startup import exit_when_unreachable


def main() -> None:
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s", level=logging.INFO)
    with exit_on_settings_error("backend-prestart"):
        settings = load_settings()
    if settings.database_url is None:
        sys.exit("backend-prestart: DATABASE_URL is not set")
    database_url = str(settings.database_url)
    with exit_when_unreachable("backend-prestart"):
        asyncio.run(wait_for_database(database_url, settings.startup_timeout_seconds))
    upgrade_to_head(database_url)


if __name__ == "__main__":
    main()
