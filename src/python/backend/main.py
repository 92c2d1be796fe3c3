"""Entry point of the backend pex and image: wait for the database, serve.

A configured database (DATABASE_URL) is migrated once by the pre-start step (`backend.prestart`,
the Compose job `backend-migrate`), not by every replica; an embedded one, which this process alone
uses, is migrated here. Redis need not answer at start: until it does, events wait in the outbox.
SIGTERM and SIGINT stop the server gracefully, then the embedded servers this process uses are
released.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import uvicorn

from backend import servers
from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from servicekit.database import wait_for_database
from backend.settings import load_settings
from servicekit.observability import observed_process
from servicekit.serving import run_until_signalled, serve, stopped_by_signals
from servicekit.settings import exit_on_settings_error
from servicekit.startup import exit_when_unreachable


def main() -> None:
    with exit_on_settings_error("backend"):
        settings = load_settings()
    with (
        observed_process(settings, "backend"),
        stopped_by_signals(),
        exit_on_settings_error("backend"),
        exit_when_unreachable("backend"),
        ExitStack() as stack,
    ):
        database_url = servers.database_url(settings, stack)
        redis_url = servers.redis_url(settings, stack)
        asyncio.run(wait_for_database(database_url, settings.startup_timeout_seconds))
        if settings.database_url is None:  # the embedded server: this process is its only user
            upgrade_to_head(database_url)
        app = create_app(database_url, redis_url, settings)
        # servicekit.logs formats every line and servicekit.request_observer writes the access
        # lines: uvicorn configures no logging of its own.
        config = uvicorn.Config(
            app, host=settings.host, port=settings.port, log_config=None, access_log=False
        )
        run_until_signalled(lambda: serve(config))


if __name__ == "__main__":
    main()
