"""A throwaway copy of this repository with a git history of its own, for checks that commit,
edit and run Pants without touching the real checkout (change_impact_check, remote_cache_check)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

# The pex tool ./pants would otherwise build from the package registry on first use.
PEX_BOOTSTRAP = Path(".pants.d/bootstrap")
# Until pants.toml says `[shell-setup] dependency_inference = false`: shell dependency inference
# downloads shellcheck, which offline machines cannot, and finds nothing here (no script sources
# another), yet --changed-dependents needs every target's dependencies.
PANTS_ENV = {"PANTS_SHELL_SETUP_DEPENDENCY_INFERENCE": "false"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def run_pants(
    root: Path, *args: str, env: dict[str, str] | None = None, pantsd: bool = False
) -> subprocess.CompletedProcess:
    """Runs ./pants, by default without pantsd (shared machines), capturing its output."""
    return subprocess.run(
        ["./pants", *([] if pantsd else ["--no-pantsd"]), *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **PANTS_ENV, **(env or {})},
    )


def pants(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Runs ./pants like run_pants and returns its stdout; raises with its stderr on failure."""
    result = run_pants(root, *args, env=env)
    if result.returncode != 0:
        raise RuntimeError(
            f"./pants {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return result.stdout


def copy_repo(destination: Path, revision: str | None = None) -> Path:
    """Copies this repository's files into `destination` and commits them there: those of the
    working tree (tracked, and untracked but not ignored), or with `revision` those of that commit.

    The repository is the one around the working directory: `pants run` runs a copy of these
    files from a sandbox, with the build root as the working directory.
    """
    source = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
    if revision is None:
        _copy_working_tree(source, destination)
    else:
        archive = subprocess.run(
            ["git", "archive", revision], cwd=source, check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as files:
            files.extractall(destination)
    if (source / PEX_BOOTSTRAP).is_dir():
        shutil.copytree(source / PEX_BOOTSTRAP, destination / PEX_BOOTSTRAP)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(
        destination,
        "-c",
        "user.name=ci",
        "-c",
        "user.email=ci@localhost",
        "commit",
        "-qm",
        "scratch copy",
    )
    return destination


def _copy_working_tree(source: Path, destination: Path) -> None:
    listed = git(source, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for relative in filter(None, listed):
        path = source / relative
        if path.is_file():  # a tracked file may be deleted in the working tree
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / relative)


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
