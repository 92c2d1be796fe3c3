from __future__ import annotations

from services.compose import BEGIN_MARKER, END_MARKER, MANAGED_FILES
from services.registry import load_registry
from services.sync import MODELS_FILE, plan_sync

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


def test_the_swarm_stack_kubernetes_manifests_and_prometheus_files_are_rendered_whole() -> None:
    plan = plan_sync(REGISTRY, TEMPLATES, managed(), set())
    assert "cron:" in plan.updated_files["infra/swarm/stack.yml"]
    assert "name: cron" in plan.updated_files["infra/kubernetes/manifests.yaml"]
    # A generic container serves no metrics: nothing to scrape, no rules.
    assert "scrape_configs: []" in plan.updated_files["infra/prometheus/prometheus.yml"]
    assert "groups: []" in plan.updated_files["infra/prometheus/alerts.yml"]
    assert "out of date: infra/swarm/stack.yml" in plan.report()
    in_step = plan_sync(REGISTRY, TEMPLATES, {**managed(), **plan.updated_files}, set())
    assert in_step.updated_files == {}


def test_a_service_that_stores_data_gets_its_model_and_first_migration() -> None:
    registry = load_registry(
        "services:\n  - {name: ledger, type: python-fastapi, description: Books.,"
        " depends_on: [postgres]}\n"
    )
    templates = {
        "templates/_partials/stored_model.yaml.j2": (
            "\n  {{ stored_model }}:\n    fields:\n      id: {type: int, readonly: true}\n"
            "      name: string\n"
        ),
        "templates/python-fastapi/app.py.j2": "# {{ service.name }}\n",
        "templates/python-fastapi+postgres/spec/__name__.yaml.j2": (
            "storage:\n  {{ stored_model }}: {table: {{ service.name }}_items, primary_key: id}\n"
            "operations:\n  ping: {auth: public, rest: {method: GET, path: /ping}}\n"
        ),
    }
    models = "models:\n  User:\n    fields:\n      id: int\n"
    plan = plan_sync(registry, templates, managed(), set(), models)
    assert plan.updated_files[MODELS_FILE] == models + (
        "\n  LedgerItem:\n    fields:\n      id: {type: int, readonly: true}\n      name: string\n"
    )
    migration = plan.new_files["src/python/ledger/migrations/versions/0001_initial.py"]
    assert 'op.create_table(\n        "ledger_items",' in migration
    assert 'sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_items"))' in migration
    assert "missing: the models the new services store, in shared/spec/models.yaml" in plan.report()
    # Scaffolded again (files deleted by hand, say), the model is not added twice.
    again = plan_sync(registry, templates, managed(), set(), plan.updated_files[MODELS_FILE])
    assert MODELS_FILE not in again.updated_files
