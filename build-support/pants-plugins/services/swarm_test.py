from __future__ import annotations

import yaml

from services.registry import load_registry
from services.swarm import render_stack

REGISTRY = load_registry("""\
services:
  - {name: backend, type: python-fastapi, description: API., depends_on: [postgres, redis],
     replicas: 3, migrate: [/app/bin/python, -m, backend.alembic_cli, upgrade, head]}
  - {name: tg_bot, type: python-faststream, description: Bot., depends_on: [backend, redis],
     secrets: [telegram_bot_token], env: [TELEGRAM_API_URL, EVENTS_CLAIM_IDLE]}
  - {name: console, type: python-fastapi, description: Console., depends_on: [backend], port: 8100}
""")


def stack() -> dict:
    return yaml.safe_load(render_stack(REGISTRY))


def test_rollout_goes_infra_migrations_services_in_dependency_order_then_caddy() -> None:
    assert stack()["x-rollout"] == [
        ["postgres", "redis"],
        ["backend-migrate"],
        ["backend"],
        ["tg_bot", "console"],
        ["caddy"],
    ]


def test_services_roll_start_first_with_health_checks_and_roll_back_on_failure() -> None:
    backend = stack()["services"]["backend"]
    assert backend["deploy"]["replicas"] == 3
    assert backend["deploy"]["update_config"]["order"] == "start-first"
    assert backend["deploy"]["update_config"]["failure_action"] == "rollback"
    assert backend["deploy"]["restart_policy"]["condition"] == "any"
    assert backend["deploy"]["resources"]["limits"] == {"cpus": "1.0", "memory": "512M"}
    assert "http://127.0.0.1:8000/health/ready" in " ".join(backend["healthcheck"]["test"])
    assert backend["image"] == "${BACKEND_IMAGE:-specfirst/backend:latest}"


def test_secrets_are_docker_secrets_never_environment_variables() -> None:
    services = stack()["services"]
    assert services["backend"]["secrets"] == ["database_url", "redis_url"]
    assert services["tg_bot"]["secrets"] == ["redis_url", "telegram_bot_token"]
    for service in services.values():
        variables = " ".join(service.get("environment", {}))
        assert "DATABASE_URL" not in variables and "TOKEN" not in variables
        assert "PASSWORD=" not in variables
    assert set(stack()["secrets"]) == {
        "postgres_password",
        "redis_password",
        "database_url",
        "database_owner_url",
        "redis_url",
        "telegram_bot_token",
    }


def test_the_migration_job_alone_gets_the_owners_url_and_no_redis() -> None:
    services = stack()["services"]
    assert services["backend-migrate"]["secrets"] == ["database_url", "database_owner_url"]
    others = [body for name, body in services.items() if name != "backend-migrate"]
    assert all("database_owner_url" not in body.get("secrets", []) for body in others)


def test_each_service_gets_its_own_settings_by_name_and_no_env_file() -> None:
    services = stack()["services"]
    assert all("env_file" not in body for body in services.values())
    bot = services["tg_bot"]["environment"]
    # Without a value: deploy-swarm sets them from its settings file when set there.
    assert (bot["TELEGRAM_API_URL"], bot["EVENTS_CLAIM_IDLE"]) == (None, None)
    assert bot["PROFILE"] == "production"
    assert "TELEGRAM_API_URL" not in services["backend"]["environment"]


def test_the_migration_is_a_one_shot_job_in_the_services_image() -> None:
    job = stack()["services"]["backend-migrate"]
    assert job["deploy"]["mode"] == "replicated-job"
    assert job["entrypoint"] == ["/app/bin/python", "-m", "backend.alembic_cli", "upgrade", "head"]
    assert job["image"] == stack()["services"]["backend"]["image"]


def test_only_caddy_publishes_ports_and_everything_is_on_the_overlay_by_dns() -> None:
    services = stack()["services"]
    assert [name for name, body in services.items() if "ports" in body] == ["caddy"]
    assert all(body["networks"] == ["specfirst"] for body in services.values())
    assert all(
        body["deploy"].get("endpoint_mode") == "dnsrr"
        for body in services.values()
        if body["deploy"].get("mode") != "replicated-job"
    )
    assert stack()["networks"]["specfirst"]["driver"] == "overlay"
    # Two Caddy tasks cannot hold the same host port: the old one stops first.
    assert services["caddy"]["deploy"]["update_config"]["order"] == "stop-first"


def test_stateful_infra_has_volumes_and_stays_on_its_labelled_node() -> None:
    services = stack()["services"]
    for name in ("postgres", "redis"):
        assert services[name]["volumes"][0].startswith(f"{name}-data:")
        assert services[name]["deploy"]["placement"]["constraints"] == [
            f"node.labels.specfirst.{name} == true"
        ]


def test_http_services_reach_each_other_by_name_and_know_their_prefix() -> None:
    services = stack()["services"]
    assert services["console"]["environment"] == {
        "BACKEND_URL": "http://backend:8000",
        "CONSOLE_PORT": "8100",
        "CONSOLE_ROOT_PATH": "/console",
        "PROFILE": "production",
        "METRICS_PORT": "9464",
    }
