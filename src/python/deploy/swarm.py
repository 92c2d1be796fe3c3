"""Deploys infra/swarm/stack.yml to the swarm DOCKER_HOST points at, phase by phase.

Before the first phase: the secrets exist (generated passwords, or values from the environment),
the nodes carry the labels the placement constraints ask for, and each locally built image has a
tag naming its content (a Swarm service only rolls when its image reference changes). Then each
phase of the file's `x-rollout` is deployed and waited for: infra, migrations (one-shot jobs that
must complete), services in dependency order, the edge.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from deploy import converge
from deploy.docker_cli import DockerError, docker, exists, inspect
from deploy.stack_file import StackFile
from servicekit.auth.keys import parse_jwks, parse_signing_key
from servicekit.settings import SettingsError

STACK_NAME = "specfirst"
CONVERGE_TIMEOUT = 300.0


class DeployError(RuntimeError):
    """The deploy cannot go on; the message says what to do."""


def _database_url(user: str, password: str) -> str:
    return f"postgresql://{user}:{password}@postgres:5432/specfirst"


# Secrets the deploy generates when the swarm lacks them, in groups sharing one new password: the
# owner's password and the URL that carries it, the application role's URL (the migration job
# creates that role with it), Redis' password and URL. The token keys (auth_jwks, auth_signing_key)
# are the operator's to make (infra/.env.example), since the operator keeps the admin key.
GENERATED_SECRETS: tuple[dict[str, Callable[[str], str]], ...] = (
    {
        "postgres_password": lambda password: password,
        "database_owner_url": lambda password: _database_url("specfirst", password),
    },
    {"database_url": lambda password: _database_url("specfirst_app", password)},
    {
        "redis_password": lambda password: password,
        "redis_url": lambda password: f"redis://:{password}@redis:6379/0",
    },
)


def check_service_key(environment: Mapping[str, str]) -> None:
    """Refuses an AUTH_SIGNING_KEY (a calling service's secret) that AUTH_JWKS would let sign any
    role: the operator's key must never reach a service."""
    jwks, signing = environment.get("AUTH_JWKS"), environment.get("AUTH_SIGNING_KEY")
    if not jwks or not signing:
        return
    try:
        kid = parse_signing_key(signing, allow_hs256=False).kid
        admitted = parse_jwks(jwks, allow_hs256=False).by_kid.get(kid)
    except SettingsError as error:
        raise DeployError(str(error)) from None
    if admitted is not None and admitted.roles is None:
        raise DeployError(
            f"AUTH_SIGNING_KEY is key '{kid}', which AUTH_JWKS admits for every role: a service "
            "gets a key of its own, narrowed (keygen --role service --audience backend)"
        )


def read_settings_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as Docker reads an env file (values verbatim, no quotes removed); blank
    lines and # comments skipped."""
    settings = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise DeployError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        settings[name.strip()] = value
    return settings


def images_built_by_pants(dist: Path = Path("dist")) -> dict[str, str]:
    """{image name: image id} of what the last `pants package` built (its docker-info files).

    The id, not the name: on an engine other builds share, `specfirst/backend:latest` may since
    name another build's image.
    """
    built = {}
    for info_file in dist.glob("*/*.docker-info.json"):
        info = json.loads(info_file.read_text())
        for registry in info["registries"]:
            for tag in registry["tags"]:
                built[tag["name"]] = info["image_id"]
    return built


@dataclass
class Deployment:
    stack: StackFile
    name: str = STACK_NAME
    # The services' settings (each gets those its `env` names); default: settings.env beside the
    # stack file.
    env_file: Path | None = None
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    say: Callable[[str], None] = print
    # {image name: image id} to deploy instead of what the name points at now.
    built_images: Mapping[str, str] = field(default_factory=dict)

    def run(self) -> dict[str, float]:
        """Deploys every phase; returns the seconds each phase took to converge."""
        variables = self.prepare()
        timings = {}
        for index, phase in enumerate(self.stack.phases):
            start = time.monotonic()
            self.say(f"phase {index + 1}/{len(self.stack.phases)}: {', '.join(phase)}")
            self.deploy_phase(index, variables)
            converge.wait_for(self.service_names(phase), CONVERGE_TIMEOUT, self.say)
            timings[", ".join(phase)] = time.monotonic() - start
        return timings

    def prepare(self) -> dict[str, str]:
        """Secrets, node labels and image tags; returns the variables the stack file reads."""
        self.ensure_secrets()
        self.ensure_node_labels()
        settings = read_settings_file(self.env_file or self.stack.path.parent / "settings.env")
        variables = {**self.environment, **settings, **self.image_variables()}
        variables["CADDYFILE_VERSION"] = self.caddyfile_version()
        return variables

    def service_names(self, phase: list[str]) -> list[str]:
        return [f"{self.name}_{service}" for service in phase]

    def deploy_phase(self, index: int, variables: Mapping[str, str]) -> None:
        # Relative paths of the file (the Caddyfile, settings.env) are relative to its folder.
        docker(
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "--compose-file",
            "-",
            self.name,
            stdin=self.stack.up_to_phase(index),
            cwd=self.stack.path.parent,
            env=variables,
        )

    def ensure_secrets(self) -> None:
        """Creates the missing secrets: from the variable named like each (TELEGRAM_BOT_TOKEN),
        else generated with the rest of its group; a half-present group is refused."""
        wanted = self.stack.secret_names()
        missing = [name for name in wanted if not exists("secret", name)]
        check_service_key(self.environment)
        for name in list(missing):
            if self.environment.get(name.upper()):
                self._create_secret(name, self.environment[name.upper()])
                missing.remove(name)
        for group in GENERATED_SECRETS:
            absent = [name for name in group if name in missing]
            if not absent:
                continue
            present = [name for name in group if name in wanted and name not in missing]
            if present:
                raise DeployError(
                    f"secret {', '.join(present)} exists but {', '.join(absent)} does not: "
                    f"remove {', '.join(present)} (docker secret rm) so that they are created "
                    "together, or set " + ", ".join(name.upper() for name in absent)
                )
            password = secrets.token_hex(32)
            for name in absent:
                self._create_secret(name, group[name](password))
                missing.remove(name)
        if missing:
            raise DeployError(
                "secrets missing from the swarm: "
                + ", ".join(missing)
                + "; set "
                + ", ".join(name.upper() for name in missing)
                + " for this deploy (or create them: printf %s VALUE | docker secret create NAME -)"
            )

    def _create_secret(self, name: str, value: str) -> None:
        docker("secret", "create", name, "-", stdin=value)
        self.say(f"created secret {name}")

    def ensure_node_labels(self) -> None:
        """A label no node carries goes on the node this client talks to (a one-node swarm's only
        node). On a bigger swarm, label the nodes that keep the volumes before the first deploy."""
        nodes = inspect(*docker("node", "ls", "--quiet").split())
        this_node = docker("info", "--format", "{{.Swarm.NodeID}}").strip()
        for label in self.stack.node_labels():
            if not any(n["Spec"].get("Labels", {}).get(label) == "true" for n in nodes):
                docker("node", "update", "--label-add", f"{label}=true", this_node)
                self.say(f"labelled node {this_node} {label}=true")

    def image_variables(self) -> dict[str, str]:
        """<NAME>_IMAGE for each image not overridden: its local build, tagged by content."""
        variables = {}
        for slot in self.stack.image_slots().values():
            if slot.variable in self.environment:
                continue
            try:
                [image] = inspect(self.built_images.get(slot.default, slot.default))
            except DockerError:
                raise DeployError(
                    f"image {slot.default} is not built here: run `pants package` "
                    f"(build-support/bin/deploy-swarm does) or set {slot.variable}"
                ) from None
            repository = slot.default.rsplit(":", 1)[0]
            tag = f"{repository}:{image['Id'].split(':')[-1][:12]}"
            docker("tag", image["Id"], tag)
            variables[slot.variable] = tag
        return variables

    def caddyfile_version(self) -> str:
        caddyfile = self.stack.path.parent / self.stack.document["configs"]["caddyfile"]["file"]
        return hashlib.sha256(caddyfile.read_bytes()).hexdigest()[:12]

    def state(self) -> str:
        return (
            docker("stack", "services", self.name)
            + "\n"
            + docker(
                "stack",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "table {{.Name}}\t{{.Image}}\t{{.Node}}\t{{.CurrentState}}",
                self.name,
            )
        )

    def remove(self) -> None:
        """The stack, then (once its tasks are gone) its volumes, secrets and configs."""
        docker("stack", "rm", self.name)
        label = f"label=com.docker.stack.namespace={self.name}"
        deadline = time.monotonic() + 180
        while docker("ps", "-a", "-q", "--filter", label).split():
            if time.monotonic() > deadline:
                raise DeployError(f"the containers of stack {self.name} were not gone within 180 s")
            # Swarm keeps the stopped containers of completed jobs: remove them (others are
            # being removed already, which docker refuses to start twice).
            stopped = docker("ps", "-a", "-q", "--filter", label, "--filter", "status=exited")
            for container in stopped.split():
                try:
                    docker("rm", container)
                except DockerError:
                    pass
            time.sleep(1)
        for volume in self.stack.document.get("volumes", {}):
            self._remove_when_free("volume", f"{self.name}_{volume}", deadline)
        for secret in self.stack.secret_names():
            self._remove_when_free("secret", secret, deadline)

    def _remove_when_free(self, kind: str, name: str, deadline: float) -> None:
        """Removes a volume or secret once no container being removed holds it any more."""
        while exists(kind, name):
            try:
                docker(kind, "rm", name)
            except DockerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
