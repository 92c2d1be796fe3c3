"""Proves pants.remote-cache.toml works: a second clean clone takes its test results from the cache.

Starts BuildGrid (in-memory CAS and action cache) on loopback, runs a test target in one scratch
copy of the repository with the remote cache on, then in a fresh `git clone` of that copy, and
checks that the clone's test result came from the remote cache (its test line says "cached
remotely" and `--stats-log` counts remote cache hits). Both clones live on this machine and share
~/.cache/pants, so the local process cache is off in both runs: every result is either run or
fetched from BuildGrid.

    python3 build-support/ci/remote_cache_check.py [--target ADDRESS] [--buildgrid-venv DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from scratch_repo import PEX_BOOTSTRAP, copy_repo, git, run_pants, scratch_dir

BUILDGRID = "buildgrid==0.4.4"
INSTANCE = "main"  # pants.remote-cache.toml's remote_instance_name

BUILDGRID_CONFIG = """\
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true
authorization:
  method: none
storages:
  - !lru-storage &cas
    size: 2048M
caches:
  - !lru-action-cache &results
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: false
instances:
  - name: {instance}
    services:
      - !action-cache
        cache: *results
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""


def buildgrid_executable(venv: Path) -> Path:
    """bgd from `venv`, installed there from the package registry if it is not yet."""
    bgd = venv / "bin" / "bgd"
    if not bgd.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", BUILDGRID], check=True)
    return bgd


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"BuildGrid exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"BuildGrid did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def counter(stderr: str, name: str) -> int:
    found = re.search(rf"^\s*{name}: (\d+)$", stderr, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_line(stderr: str, target: str) -> str:
    """The summary line of `target`: "✓ <target> succeeded in 0.52s (cached remotely)."."""
    summary = re.compile(rf"^[✓✕] {re.escape(target)} ")
    return next((line for line in stderr.splitlines() if summary.match(line)), "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target", default="build-support/pants-plugins/specgen/diff_test.py:tests"
    )
    parser.add_argument("--buildgrid-venv", type=Path, default=Path("/tmp/buildgrid-venv"))
    args = parser.parse_args()

    bgd = buildgrid_executable(args.buildgrid_venv)
    work = scratch_dir("remote-cache-")
    port = free_port()
    (work / "buildgrid.yml").write_text(BUILDGRID_CONFIG.format(port=port, instance=INSTANCE))
    with (work / "buildgrid.log").open("w") as log:
        server = subprocess.Popen(
            [str(bgd), "server", "start", "buildgrid.yml"],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server)
        env = {
            "PANTS_CONFIG_FILES": "+['pants.remote-cache.toml']",
            "PANTS_REMOTE_STORE_ADDRESS": f"grpc://127.0.0.1:{port}",
            "PANTS_LOCAL_CACHE": "false",
        }
        first = copy_repo(work / "first")
        second = work / "second"
        git(work, "clone", "-q", str(first), str(second))
        shutil.copytree(first / PEX_BOOTSTRAP, second / PEX_BOOTSTRAP)

        results = {}
        for name, clone in (("first clone", first), ("second clone", second)):
            run = run_pants(clone, "--stats-log", "test", args.target, env=env)
            line = test_line(run.stderr, args.target)
            results[name] = (run, line)
            print(
                f"{name}: exit {run.returncode}; {line.strip() or 'no test line'}; "
                f"remote cache hits {counter(run.stderr, 'remote_cache_requests_cached')}, "
                f"writes {counter(run.stderr, 'remote_cache_write_successes')}"
            )
            if run.returncode != 0:
                print(run.stderr[-3000:])
                return 1

        run, line = results["second clone"]
        if (
            "cached remotely" not in line
            or counter(run.stderr, "remote_cache_requests_cached") == 0
        ):
            print("FAIL: the second clone did not take its test result from the remote cache")
            return 1
        print("ok: the second clone's test result came from the remote cache")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
