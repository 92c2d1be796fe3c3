"""The services as the e2e tests run them: separate processes of this interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import asyncpg  # type: ignore[import-untyped]
import httpx

DATABASE_SERVER_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def start_service(
    module: str, env: dict[str, str], output: IO[str] | None = None
) -> subprocess.Popen[str]:
    """`python -m module` with `env` added; its output goes to `output` (default: a pipe)."""
    return subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_service(process: subprocess.Popen[str]) -> str:
    """Stops it (SIGTERM, then SIGKILL after 15 s); its piped output, if any."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def wait_until_answering(
    url: str, process: subprocess.Popen[str], path: str = "/health/ready", timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.communicate()[0]
            raise AssertionError(f"{process.args!r} exited:\n{output}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url}{path} not answering 200 within {timeout}s")


def lines_of(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.strip()]


async def execute(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
