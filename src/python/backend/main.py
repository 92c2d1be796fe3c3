"""Entry point of the backend pex and image: migrate the database to head, then serve."""

from __future__ import annotations

import sys
from contextlib import ExitStack

import uvicorn

from backend import servers
from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from backend.settings import SettingsError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"backend: {error}")
    with ExitStack() as stack:
        database_url = servers.database_url(settings, stack)
        redis_url = servers.redis_url(settings, stack)
        upgrade_to_head(database_url)
        app = create_app(
            database_url,
            redis_url,
            pool_size=settings.db_pool_size,
            health_timeout=settings.health_timeout_seconds,
        )
        uvicorn.run(app, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
