"""Entry point of the backend pex and image: wait for the database, migrate it to head, serve.

Redis need not answer at start: until it does, events wait in the outbox. SIGTERM and SIGINT stop
the server gracefully, then the embedded servers this process uses are released.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import uvicorn

from backend import servers
from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from backend.db import Database
from backend.settings import load_settings
from servicekit.serving import run_until_signalled, serve, stopped_by_signals
from servicekit.settings import exit_on_settings_error
from servicekit.startup import exit_when_unreachable, wait_until_reachable


def main() -> None:
    with exit_on_settings_error("backend"):
        settings = load_settings()
    with (
        stopped_by_signals(),
        exit_on_settings_error("backend"),
        exit_when_unreachable("backend"),
        ExitStack() as stack,
    ):
        database_url = servers.database_url(settings, stack)
        redis_url = servers.redis_url(settings, stack)
        asyncio.run(wait_for_database(database_url, settings.startup_timeout_seconds))
        upgrade_to_head(database_url)
        app = create_app(database_url, redis_url, settings)
        config = uvicorn.Config(app, host=settings.host, port=settings.port)
        run_until_signalled(lambda: serve(config))


async def wait_for_database(url: str, timeout: float) -> None:
    database = Database(url, pool_size=1)
    try:
        await wait_until_reachable("PostgreSQL (DATABASE_URL)", database.ping, timeout)
    finally:
        await database.dispose()


if __name__ == "__main__":
    main()
