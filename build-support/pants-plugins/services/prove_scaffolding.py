"""Proof that `pants sync-services` scaffolds services that work with no hand edits.

In a throwaway clone of the repo (HEAD plus the working tree's registry, templates, plugin and
infra files), for one service of each type: add it to services.yml, run `pants sync-services`,
then `pants test` on its folder (timed from the registry edit); then `lint check package` on all
of them, start each image on the host network, and rebuild one image after a code-only change.
Last, the service that stores data gains a second entity, as its developer would add one: a model
with a unique key and a reference, its storage and operations in the spec, the business logic,
a migration written by Alembic's autogenerate, and a test of its CRUD through HTTP.

    python3 build-support/pants-plugins/services/prove_scaffolding.py [--keep]

Needs a Docker engine (DOCKER_HOST, see build-support/bin/ensure-docker), Redis on
127.0.0.1:6379 for the worker and PostgreSQL on 127.0.0.1:5432 (DATABASE_SERVER_URL) for the
service that stores data. Exits non-zero on the first failure; prints the figures.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
    ("demo_store", "python-fastapi", "[postgres]"),
    ("demo_worker", "python-faststream", "[redis]"),
    ("demo_box", "default", "[]"),
]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_SERVER_URL = os.environ.get(
    "DATABASE_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
API_PORT, PLAIN_PORT, STORE_PORT = 18100, 18101, 18102


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


# The images run as in production (PROFILE=production), where a service needs its token keys:
# an Ed25519 public key (32 bytes) whose private half nobody has, as the proof mints no tokens.
_PUBLIC_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
AUTH_JWKS = "AUTH_JWKS=" + json.dumps(
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": _PUBLIC_KEY, "kid": "prove"}]}
)


def docker_run(name: str, image: str, *env: str) -> None:
    env_args: List[str] = [arg for value in (AUTH_JWKS, *env) for arg in ("-e", value)]
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


def run_images(suffix: str, store_database: str) -> None:
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
            containers["demo_store"],
            "specfirst/demo_store:latest",
            f"DEMO_STORE_PORT={STORE_PORT}",
            f"DATABASE_URL={store_database}",
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
            "it migrated its database and /health/ready answers 200",
            containers["demo_store"],
            lambda: answers_health(STORE_PORT),
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


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A database of its own on DATABASE_SERVER_URL's server; yields its URL, drops it after."""
    name = f"{prefix}_{os.getpid()}_{int(time.time() * 1000)}"
    run(REPO, "psql", DATABASE_SERVER_URL, "-q", "-c", f'CREATE DATABASE "{name}"')
    try:
        yield DATABASE_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run(REPO, "psql", DATABASE_SERVER_URL, "-q", "-c", f'DROP DATABASE "{name}" WITH (FORCE)')


# The second entity of demo_store: what its developer writes.
NOTE_MODEL = """
  DemoStoreNote:
    fields:
      id: {type: int, readonly: true}
      item_id: int
      title: {type: string, min_length: 1, max_length: 80}
      created_at: {type: datetime, readonly: true}
    variants:
      Create: {}
      Read: {}
"""
NOTE_STORAGE = """  DemoStoreNote:
    table: demo_store_notes
    primary_key: id
    unique: [[item_id, title]]
    references:
      item_id: {model: DemoStoreItem, on_delete: cascade}
    defaults: {created_at: now}
"""
NOTE_OPERATIONS = """
  create_note:
    input: DemoStoreNoteCreate
    output: DemoStoreNoteRead
    rest: {method: POST, path: /notes, errors: [409]}

  get_note:
    output: DemoStoreNoteRead
    params:
      - {name: note_id, type: int}
    rest: {method: GET, path: "/notes/{note_id}", errors: [404]}
"""
NOTE_LOGIC = '''


class WithNotes(DemoStoreOperations):
    """The operations on notes: the business logic of the new entity."""

    def __init__(self, unit: SessionUnitOfWork) -> None:
        super().__init__(DemoStoreItemRepository(unit.session))
        self.notes = DemoStoreNoteRepository(unit.session)

    async def create_note(self, body: DemoStoreNoteCreate, principal: Principal) -> DemoStoreNoteRead:
        return DemoStoreNoteRead.model_validate(await self.notes.create(body))

    async def get_note(self, note_id: int, principal: Principal) -> DemoStoreNoteRead:
        return DemoStoreNoteRead.model_validate(await self.notes.get(note_id))
'''
NOTE_TEST = '''"""Notes through HTTP on a real PostgreSQL: a note refers to an item, is unique per item by
title, and goes when its item goes."""

from __future__ import annotations

import httpx
import pytest

from demo_store.app_test import ADMIN, ITEMS, client, database_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio
NOTES = "/demo_store/notes"


async def test_notes_refer_to_items(client: httpx.AsyncClient) -> None:  # noqa: F811
    item = (await client.post(ITEMS, json={"name": "with notes"}, headers=ADMIN)).json()
    note = {"item_id": item["id"], "title": "first"}
    created = await client.post(NOTES, json=note, headers=ADMIN)
    assert created.status_code == 201, created.text
    path = f"{NOTES}/{created.json()['id']}"
    assert (await client.get(path, headers=ADMIN)).json() == created.json()
    again = await client.post(NOTES, json=note, headers=ADMIN)
    assert again.status_code == 409, again.text
    orphan = {"item_id": 10**12, "title": "orphan"}
    refused = await client.post(NOTES, json=orphan, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "item_id"]
    assert (await client.delete(f"{ITEMS}/{item['id']}", headers=ADMIN)).status_code == 204
    assert (await client.get(path, headers=ADMIN)).status_code == 404  # on_delete: cascade
'''


def add_entity(repo: Path) -> None:
    """Adds DemoStoreNote to demo_store as its developer would, then runs its tests."""
    service = repo / "src/python/demo_store"
    with open(repo / "shared/spec/models.yaml", "a") as models:
        models.write(NOTE_MODEL)
    spec = service / "spec/demo_store.yaml"
    text = spec.read_text().replace("\noperations:\n", "\n" + NOTE_STORAGE + "\noperations:\n", 1)
    spec.write_text(text + NOTE_OPERATIONS)
    app = service / "app.py"
    app.write_text(
        app.read_text()
        .replace(
            "from generated.models import (",
            "from generated.demo_store.storage.demo_store import DemoStoreNoteRepository\n"
            "from generated.models import DemoStoreNoteCreate, DemoStoreNoteRead\n"
            "from generated.models import (",
        )
        .replace(
            "return DemoStoreOperations(DemoStoreItemRepository(unit.session))",
            "return WithNotes(unit)",
        )
        + NOTE_LOGIC
    )
    (service / "notes_test.py").write_text(NOTE_TEST)
    with scratch_database("prove_autogenerate") as url:
        env = {**os.environ, "DATABASE_URL": url}
        alembic = ["./pants", "--no-pantsd", "run", "src/python/demo_store:alembic", "--"]
        for arguments in (["upgrade", "head"], ["revision", "--autogenerate", "-m", "add notes"]):
            done = subprocess.run([*alembic, *arguments], cwd=repo, env=env, capture_output=True)
            if done.returncode != 0:
                sys.exit(f"prove-scaffolding: alembic {arguments} failed:\n{done.stderr[-4000:]!r}")
    written = list((service / "migrations/versions").glob("*_add_notes.py"))
    if len(written) != 1 or "demo_store_notes" not in written[0].read_text():
        sys.exit(f"prove-scaffolding: autogenerate wrote {written}, not the notes table")
    log(f"autogenerate wrote {written[0].relative_to(repo)}")
    pants(repo, "test", "src/python/demo_store::")


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
    with scratch_database("prove_image") as store_database:
        run_images("cold", store_database)

    # A code-only change: only the sources pex and the image layers after it are rebuilt.
    app = repo / "src/python/demo_api/app.py"
    app.write_text(app.read_text().replace('VERSION = "0.1.0"', 'VERSION = "0.1.1"'))
    timed(
        "demo_api image, rebuild after a code-only change",
        figures,
        lambda: pants(repo, "package", "src/python/demo_api:image"),
    )
    with scratch_database("prove_image") as store_database:
        run_images("rebuilt", store_database)
    timed("demo_store: a new entity, spec to passing test", figures, lambda: add_entity(repo))
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
