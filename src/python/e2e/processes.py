"""The services as the e2e tests run them: separate processes of this interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import asyncpg  # type: ignore[import-untyped]

from servicekit.waiting import answers_200, wait_until

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
    """Until GET `url` + `path` answers 200; fails at once, with its output, if `process` exits."""

    def answering() -> bool:
        if process.poll() is not None:
            output = process.communicate()[0]
            raise AssertionError(f"{process.args!r} exited:\n{output}")
        return answers_200(f"{url}{path}")

    wait_until(answering, timeout, f"{url}{path} answering 200")


def lines_of(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.strip()]


async def execute(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
