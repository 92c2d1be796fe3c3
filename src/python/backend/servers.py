"""The PostgreSQL and Redis the backend uses: the configured ones, or embedded servers."""

from __future__ import annotations

from contextlib import ExitStack

from backend.settings import Settings
from servicekit.embedded import embedded_postgres, embedded_redis


def database_url(settings: Settings, stack: ExitStack) -> str:
    """DATABASE_URL, or an embedded PostgreSQL that `stack` stops on exit."""
    if settings.database_url is not None:
        return str(settings.database_url)
    return stack.enter_context(embedded_postgres())


def redis_url(settings: Settings, stack: ExitStack) -> str:
    """REDIS_URL, or an embedded Redis that `stack` stops on exit."""
    if settings.redis_url is not None:
        return str(settings.redis_url)
    return stack.enter_context(embedded_redis())
