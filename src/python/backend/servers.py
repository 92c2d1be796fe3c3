"""The PostgreSQL and Redis the backend uses: the configured ones, or the machine's shared
embedded servers (servicekit.shared_stack, in development builds only)."""

from __future__ import annotations

from contextlib import ExitStack

from backend.settings import Settings
from servicekit.settings import shared_stack


def database_url(settings: Settings, stack: ExitStack) -> str:
    """DATABASE_URL, or the shared embedded PostgreSQL, released when `stack` closes."""
    if settings.database_url is not None:
        return str(settings.database_url)
    return stack.enter_context(shared_stack("DATABASE_URL").shared_postgres())


def redis_url(settings: Settings, stack: ExitStack) -> str:
    """REDIS_URL, or the shared embedded Redis, released when `stack` closes."""
    if settings.redis_url is not None:
        return str(settings.redis_url)
    return stack.enter_context(shared_stack("REDIS_URL").shared_redis())
