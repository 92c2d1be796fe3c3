"""infra/swarm/stack.yml as the deploy reads it: its rollout phases, images, secrets, constraints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

STACK_FILE = Path("infra/swarm/stack.yml")
# `image: ${BACKEND_IMAGE:-specfirst/backend:latest}`: the variable and the image built locally.
_IMAGE = re.compile(r"^\$\{(?P<variable>[A-Z0-9_]+_IMAGE):-(?P<default>[^}]+)\}$")
_LABEL_CONSTRAINT = re.compile(r"^node\.labels\.(?P<label>[\w.-]+)\s*==\s*true$")


class StackFileError(ValueError):
    """The stack file lacks what the deploy needs; the message names the file and the key."""


@dataclass(frozen=True)
class ImageSlot:
    variable: str  # BACKEND_IMAGE
    default: str  # specfirst/backend:latest


@dataclass(frozen=True)
class StackFile:
    path: Path
    document: dict[str, Any]

    @classmethod
    def read(cls, path: Path = STACK_FILE) -> StackFile:
        document = yaml.safe_load(path.read_text())
        for key in ("services", "x-rollout"):
            if not isinstance(document, dict) or key not in document:
                raise StackFileError(f"{path}: no '{key}' (regenerate it: pants sync-services)")
        return cls(path, document)

    @property
    def phases(self) -> list[list[str]]:
        return [list(phase) for phase in self.document["x-rollout"]]

    def services(self) -> dict[str, dict[str, Any]]:
        return dict(self.document["services"])

    def up_to_phase(self, index: int) -> str:
        """The stack with the services of phases 0..index, but the one-shot jobs of this phase
        only: deploying it leaves later services as they are, and runs no earlier job again
        (Swarm reruns a job whenever a deploy names it)."""
        earlier = {n for phase in self.phases[:index] for n in phase if not self.is_job(n)}
        names = earlier | set(self.phases[index])
        document = {key: value for key, value in self.document.items() if key != "x-rollout"}
        document["services"] = {
            name: body for name, body in self.document["services"].items() if name in names
        }
        return yaml.safe_dump(document, sort_keys=False)

    def image_slots(self) -> dict[str, ImageSlot]:
        """{variable: slot} of every service image that can be overridden."""
        slots = {}
        for body in self.services().values():
            match = _IMAGE.match(str(body.get("image", "")))
            if match:
                slots[match["variable"]] = ImageSlot(match["variable"], match["default"])
        return slots

    def secret_names(self) -> list[str]:
        return list(self.document.get("secrets", {}))

    def node_labels(self) -> list[str]:
        """Labels a node must carry (`node.labels.<label> == true`) for some service to run."""
        labels: list[str] = []
        for body in self.services().values():
            constraints = body.get("deploy", {}).get("placement", {}).get("constraints", [])
            for constraint in constraints:
                match = _LABEL_CONSTRAINT.match(constraint)
                if match and match["label"] not in labels:
                    labels.append(match["label"])
        return labels

    def is_job(self, name: str) -> bool:
        return self.services()[name].get("deploy", {}).get("mode") == "replicated-job"
