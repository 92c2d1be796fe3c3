from __future__ import annotations

from services.compose import BEGIN_MARKER, END_MARKER, MANAGED_FILES
from services.registry import load_registry
from services.sync import plan_sync

REGISTRY = load_registry(
    "services:\n  - {name: cron, type: default, description: Periodic jobs.}\n"
)
TEMPLATES = {
    "templates/common/BUILDFILE.j2": "python_sources()\n",
    "templates/common/README.md.j2": "# {{ service.name }}\n",
    "templates/default/main.py.j2": "print('{{ service.name }}')\n",
}


def managed(services: str = "") -> dict[str, str]:
    section = f"  {BEGIN_MARKER}\n{services}  {END_MARKER}\n"
    return {file.path: f"services:\n{section}" for file in MANAGED_FILES}


def in_step() -> dict[str, str]:
    texts = managed()
    return {**texts, **plan_sync(REGISTRY, TEMPLATES, texts, set()).updated_files}


def test_a_new_service_is_scaffolded_and_infra_updated() -> None:
    plan = plan_sync(REGISTRY, TEMPLATES, managed(), set())
    assert plan.new_files == {
        "src/python/cron/BUILD": "python_sources()\n",
        "src/python/cron/README.md": "# cron\n",
        "src/python/cron/main.py": "print('cron')\n",
    }
    assert "infra/compose.yml" in plan.updated_files  # a default service has no Caddy route
    assert "missing: src/python/cron/main.py" in plan.report()


def test_existing_files_are_never_overwritten() -> None:
    plan = plan_sync(REGISTRY, TEMPLATES, in_step(), {"src/python/cron/main.py"})
    assert set(plan.new_files) == {"src/python/cron/BUILD", "src/python/cron/README.md"}


def test_a_service_with_a_build_file_is_left_alone() -> None:
    plan = plan_sync(REGISTRY, TEMPLATES, in_step(), {"src/python/cron/BUILD"})
    assert plan.files_to_write() == {} and plan.report() == []


def test_a_removed_service_is_reported_and_its_code_kept() -> None:
    texts = managed("  old_api:\n    image: specfirst/old_api:latest\n")
    plan = plan_sync(
        load_registry("services: []\n"), TEMPLATES, texts, {"src/python/old_api/BUILD"}
    )
    assert plan.unregistered == ("old_api",)
    assert not any(path.startswith("src/") for path in plan.files_to_write())
    assert any(line.startswith("unregistered: old_api") for line in plan.report())


def test_the_swarm_stack_and_kubernetes_manifests_are_rendered_whole() -> None:
    plan = plan_sync(REGISTRY, TEMPLATES, managed(), set())
    assert "cron:" in plan.updated_files["infra/swarm/stack.yml"]
    assert "name: cron" in plan.updated_files["infra/kubernetes/manifests.yaml"]
    assert "out of date: infra/swarm/stack.yml" in plan.report()
    in_step = plan_sync(REGISTRY, TEMPLATES, {**managed(), **plan.updated_files}, set())
    assert in_step.updated_files == {}
