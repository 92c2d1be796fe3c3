"""Proof that `pants sync-services` scaffolds services that work with no hand edits.

In a throwaway clone of the repo (HEAD plus the working tree's registry, templates, plugin and
infra files), for one service of each type: add it to services.yml, run `pants sync-services`,
then `pants test` on its folder (timed from the registry edit); then `lint check package` on all
of them, start each image on the host network, and rebuild one image after a code-only change.

    python3 build-support/pants-plugins/services/prove_scaffolding.py [--keep]

Needs a Docker engine (DOCKER_HOST, see build-support/bin/ensure-docker) and Redis on
127.0.0.1:6379 for the worker. Exits non-zero on the first failure; prints the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[3]
# What the proof is about: copied from the working tree over the clone's HEAD.
SCAFFOLDING_PATHS = [
    "services.yml",
    "templates",
    "infra",
    "build-support/pants-plugins/services",
    "build-support/pants-plugins/pants_services",
]
# Each Python type, with dependencies and without (the newcomer's first service has none).
NEW_SERVICES = [
    ("demo_api", "python-fastapi", "[redis]"),
    ("demo_plain", "python-fastapi", "[]"),
    ("demo_worker", "python-faststream", "[redis]"),
    ("demo_box", "default", "[]"),
]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
API_PORT, PLAIN_PORT = 18100, 18101


def log(message: str) -> None:
    print(f"prove-scaffolding: {message}", file=sys.stderr, flush=True)


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        list(args),
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if check and result.returncode != 0:
        sys.exit(f"prove-scaffolding: `{' '.join(args)}` failed:\n{result.stdout[-6000:]}")
    return result


def pants(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(
        repo,
        "./pants",
        "--no-pantsd",
        "--backend-packages=+['pants_services']",
        *args,
        check=check,
    )


def timed(label: str, figures: Dict[str, float], action) -> float:
    """Runs `action`, records and returns its duration in seconds."""
    start = time.monotonic()
    action()
    seconds = time.monotonic() - start
    figures[label] = round(seconds, 1)
    log(f"{label}: {figures[label]} s")
    return seconds


def make_clone(workdir: Path) -> Path:
    repo = workdir / "repo"
    subprocess.run(["git", "clone", "--quiet", "--local", str(REPO), str(repo)], check=True)
    for path in SCAFFOLDING_PATHS:
        source, target = REPO / path, repo / path
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".env"))
        else:
            shutil.copy2(source, target)
    # The pex tool ./pants bootstraps once per checkout; reusing it keeps the figures about Pants.
    shutil.copytree(REPO / ".pants.d" / "bootstrap", repo / ".pants.d" / "bootstrap")
    return repo


def add_to_registry(repo: Path, name: str, type_name: str, depends_on: str) -> None:
    with open(repo / "services.yml", "a") as registry:
        registry.write(
            f"\n  - name: {name}\n    type: {type_name}\n    description: Scaffolded by prove_scaffolding.\n"
            f"    depends_on: {depends_on}\n"
        )


def image_size(image: str) -> int:
    output = run(REPO, "docker", "image", "inspect", image, "--format", "{{.Size}}").stdout
    return int(output.strip())


def docker_run(name: str, image: str, *env: str) -> None:
    env_args: List[str] = [arg for value in env for arg in ("-e", value)]
    run(
        REPO,
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        *env_args,
        image,
    )


def wait_until(what: str, container: str, probe) -> None:
    for _ in range(60):
        if probe():
            log(f"{container}: {what}")
            return
        time.sleep(1)
    logs = run(REPO, "docker", "logs", container, check=False).stdout
    sys.exit(f"prove-scaffolding: {container} never showed that {what}; its log:\n{logs}")


def logs_contain(container: str, text: str) -> bool:
    return text in run(REPO, "docker", "logs", container, check=False).stdout


def answers_health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run_images(suffix: str) -> None:
    containers = {name: f"prove-{name}-{suffix}" for name, _, _ in NEW_SERVICES}
    try:
        docker_run(
            containers["demo_api"],
            "specfirst/demo_api:latest",
            f"DEMO_API_PORT={API_PORT}",
        )
        docker_run(
            containers["demo_plain"],
            "specfirst/demo_plain:latest",
            f"DEMO_PLAIN_PORT={PLAIN_PORT}",
        )
        docker_run(
            containers["demo_worker"],
            "specfirst/demo_worker:latest",
            f"REDIS_URL={REDIS_URL}",
        )
        docker_run(containers["demo_box"], "specfirst/demo_box:latest")
        wait_until(
            "/health/ready answers 200",
            containers["demo_api"],
            lambda: answers_health(API_PORT),
        )
        wait_until(
            "/health/ready answers 200 with no dependency to check",
            containers["demo_plain"],
            lambda: answers_health(PLAIN_PORT),
        )
        wait_until(
            "it consumes events",
            containers["demo_worker"],
            lambda: logs_contain(
                containers["demo_worker"], "consuming as consumer group demo_worker"
            ),
        )
        wait_until(
            "it runs",
            containers["demo_box"],
            lambda: logs_contain(containers["demo_box"], "demo_box started"),
        )
    finally:
        run(REPO, "docker", "rm", "-f", *containers.values(), check=False)


def prove(repo: Path) -> Dict[str, object]:
    figures: Dict[str, float] = {}
    for name, type_name, depends_on in NEW_SERVICES:
        add_to_registry(repo, name, type_name, depends_on)
        if pants(repo, "sync-services", "--check", check=False).returncode == 0:
            sys.exit(f"prove-scaffolding: sync-services --check passed with {name} missing")
        # What a developer runs after adding the entry: the registry edit itself takes no time.
        sync = timed(f"{name}: sync-services", figures, lambda: pants(repo, "sync-services"))
        test = timed(
            f"{name}: pants test", figures, lambda: pants(repo, "test", f"src/python/{name}::")
        )
        figures[f"{name}: registry entry to passing test"] = round(sync + test, 1)
        log(f"{name}: registry entry to passing test: {round(sync + test, 1)} s")
    pants(repo, "sync-services", "--check")
    folders = [f"src/python/{name}::" for name, _, _ in NEW_SERVICES]
    timed(
        f"lint check ({len(NEW_SERVICES)} services)",
        figures,
        lambda: pants(repo, "lint", "check", *folders),
    )
    timed(
        f"package, cold ({len(NEW_SERVICES)} services)",
        figures,
        lambda: pants(repo, "package", *folders),
    )
    run_images("cold")

    # A code-only change: only the sources pex and the image layers after it are rebuilt.
    app = repo / "src/python/demo_api/app.py"
    app.write_text(app.read_text().replace('VERSION = "0.1.0"', 'VERSION = "0.1.1"'))
    timed(
        "demo_api image, rebuild after a code-only change",
        figures,
        lambda: pants(repo, "package", "src/python/demo_api:image"),
    )
    run_images("rebuilt")
    sizes = {name: image_size(f"specfirst/{name}:latest") for name, _, _ in NEW_SERVICES}
    return {"seconds": figures, "image_bytes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway clone")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="prove-scaffolding-"))
    try:
        repo = make_clone(workdir)
        log(f"throwaway clone at {repo}")
        print(json.dumps(prove(repo), indent=2))
    finally:
        if options.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
