"""Entry point of the backend pex and image: migrate the database to head, then serve."""

from __future__ import annotations

from contextlib import ExitStack

import uvicorn

from backend import servers
from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from backend.settings import load_settings
from servicekit.settings import exit_on_settings_error


def main() -> None:
    with exit_on_settings_error("backend"):
        settings = load_settings()
    with ExitStack() as stack:
        database_url = servers.database_url(settings, stack)
        redis_url = servers.redis_url(settings, stack)
        upgrade_to_head(database_url)
        app = create_app(database_url, redis_url, settings)
        uvicorn.run(app, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
