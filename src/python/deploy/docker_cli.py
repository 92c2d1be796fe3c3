"""The Docker CLI as a function: the engine DOCKER_HOST names, errors with docker's own message."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Mapping


class DockerError(RuntimeError):
    """A docker command failed; the message holds the command and what docker said."""


def docker(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Runs `docker args...` (in `env`, default this process's); returns its standard output."""
    result = subprocess.run(
        ["docker", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=None if env is None else dict(env),
        check=False,
    )
    if result.returncode != 0:
        raise DockerError(
            f"docker {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout


def lines(*args: str) -> list[str]:
    return [line for line in docker(*args).splitlines() if line.strip()]


def inspect(*names: str) -> list[dict[str, Any]]:
    """`docker inspect` of swarm objects, containers or images; [] for none."""
    if not names:
        return []
    return json.loads(docker("inspect", *names))


def inspect_tasks(*task_ids: str) -> list[dict[str, Any]]:
    """`docker inspect` of the tasks that still exist: Swarm prunes old tasks at any moment, so
    one listed by `service ps` may be gone when inspected."""
    if not task_ids:
        return []
    result = subprocess.run(
        ["docker", "inspect", *task_ids], capture_output=True, text=True, check=False
    )
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != 0 and not all("No such object" in line for line in errors):
        raise DockerError(f"docker inspect {' '.join(task_ids)}: {result.stderr.strip()}")
    return json.loads(result.stdout or "[]")


def exists(kind: str, name: str) -> bool:
    """Whether a `kind` object (secret, service, image, network, ...) called `name` exists."""
    try:
        docker(kind, "inspect", name)
    except DockerError:
        return False
    return True
