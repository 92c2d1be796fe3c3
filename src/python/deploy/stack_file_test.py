from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploy.stack_file import StackFile, StackFileError

STACK = Path(__file__).parents[3] / "infra/swarm/stack.yml"


def test_each_phase_deploys_what_came_before_and_nothing_after(tmp_path: Path) -> None:
    stack = StackFile.read(STACK)
    assert stack.phases[0] == ["postgres", "redis"] and stack.phases[-1] == ["caddy"]
    first = yaml.safe_load(stack.up_to_phase(0))
    assert list(first["services"]) == ["postgres", "redis"]
    assert "x-rollout" not in first
    assert set(first["secrets"]) == set(stack.secret_names())  # shared definitions stay
    last = yaml.safe_load(stack.up_to_phase(len(stack.phases) - 1))
    # Every service but the migration: a deploy that names a job runs it again.
    assert set(last["services"]) == set(stack.services()) - {"backend-migrate"}
    migrations = yaml.safe_load(stack.up_to_phase(stack.phases.index(["backend-migrate"])))
    assert list(migrations["services"]) == ["postgres", "redis", "backend-migrate"]


def test_images_built_here_can_be_overridden_by_variable() -> None:
    slots = StackFile.read(STACK).image_slots()
    assert slots["BACKEND_IMAGE"].default == "specfirst/backend:latest"
    assert slots["POSTGRES_IMAGE"].default == "specfirst/postgres:latest"


def test_placement_labels_and_jobs() -> None:
    stack = StackFile.read(STACK)
    assert stack.node_labels() == ["specfirst.postgres", "specfirst.redis"]
    assert stack.is_job("backend-migrate") and not stack.is_job("backend")


def test_a_file_without_rollout_phases_is_named(tmp_path: Path) -> None:
    path = tmp_path / "stack.yml"
    path.write_text("services: {}\n")
    with pytest.raises(StackFileError, match=f"^{path}: no 'x-rollout'"):
        StackFile.read(path)
