"""The embedded servers are real: PostgreSQL answers SQL, Redis answers commands, both stop after."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis

from servicekit.embedded import cache_dir, embedded_postgres, embedded_redis


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "specfirst"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "specfirst"


def test_embedded_postgres_serves_sql_and_keeps_its_data() -> None:
    # Not under tmp_path: as root the server runs as another user, and each pytest process that
    # starts meanwhile (Pants runs them in parallel) makes /tmp/pytest-of-root private again.
    with tempfile.TemporaryDirectory(prefix="specfirst-embedded-test-") as directory:
        serves_sql_and_keeps_its_data(Path(directory) / "postgres")


def serves_sql_and_keeps_its_data(data_dir: Path) -> None:
    async def query(url: str, sql: str) -> object:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()

    with embedded_postgres(data_dir) as url:
        assert asyncio.run(query(url, "SELECT 1 + 1")) == 2
        asyncio.run(query(url, "CREATE TABLE kept (n int)"))
    with pytest.raises((OSError, asyncpg.PostgresError)):
        asyncio.run(query(url, "SELECT 1"))
    with embedded_postgres(data_dir) as url:
        assert asyncio.run(query(url, "SELECT count(*) FROM kept")) == 0


def test_embedded_redis_serves_commands_and_stops() -> None:
    with embedded_redis() as url:
        client = redis.Redis.from_url(url)
        assert client.ping() and client.xadd("events.test", {"n": 1})
        assert client.xlen("events.test") == 1
        client.close()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()
