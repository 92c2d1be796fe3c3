from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deploy.docker_cli import DockerError, inspect_tasks

TASK = {"ID": "present", "Status": {"State": "running"}}


@pytest.fixture
def docker_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` that answers `inspect` as the real one does when some names are gone: the
    found objects on stdout, one error line per missing name, exit status 1."""
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f"echo '{json.dumps([TASK])}'\n"
        'for name in "$@"; do case "$name" in gone*) echo "Error: No such object: $name" >&2;; '
        'broken*) echo "Cannot connect to the Docker daemon" >&2;; esac; done\n'
        'case "$*" in *gone*|*broken*) exit 1;; esac\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return script


def test_a_task_pruned_between_listing_and_inspecting_is_left_out(docker_on_path: Path) -> None:
    assert inspect_tasks("present", "gone1", "gone2") == [TASK]


def test_any_other_docker_failure_is_an_error(docker_on_path: Path) -> None:
    with pytest.raises(DockerError, match="Cannot connect"):
        inspect_tasks("present", "broken")


def test_no_tasks_asks_docker_nothing() -> None:
    assert inspect_tasks() == []
