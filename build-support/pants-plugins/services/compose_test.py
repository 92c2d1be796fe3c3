from __future__ import annotations

import pytest
import yaml

from services.compose import (
    BEGIN_MARKER,
    END_MARKER,
    MANAGED_FILES,
    SectionError,
    render_all,
    services_in_compose,
)
from services.registry import load_registry

REGISTRY = load_registry("""\
services:
  - {name: backend, type: python-fastapi, description: API., depends_on: [postgres, redis],
     replicas: 3, migrate: [/app/bin/python, -m, backend.alembic_cli, upgrade, head]}
  - {name: tg_bot, type: python-faststream, description: Bot., depends_on: [backend, redis],
     profiles: [bot], secrets: [telegram_bot_token], env: [EVENTS_CLAIM_IDLE]}
""")
COMPOSE = (
    f"services:\n  db:\n    image: postgres\n  {BEGIN_MARKER}\n  {END_MARKER}\nvolumes: {{}}\n"
)
CADDYFILE = f"localhost {{\n\t{BEGIN_MARKER}\n\t{END_MARKER}\n}}\n"


def rendered(registry=REGISTRY) -> dict[str, str]:
    texts = {managed.path: COMPOSE for managed in MANAGED_FILES}
    texts["infra/caddy/Caddyfile"] = CADDYFILE
    return render_all(registry, texts)


def test_compose_services_follow_the_registry() -> None:
    services = yaml.safe_load(rendered()["infra/compose.yml"])["services"]
    assert list(services) == ["db", "backend-migrate", "backend", "tg_bot"]
    backend, bot = services["backend"], services["tg_bot"]
    assert backend["image"] == "specfirst/backend:latest"
    assert backend["depends_on"]["backend-migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert services["backend-migrate"]["entrypoint"][-2:] == ["upgrade", "head"]
    assert "healthcheck" in backend and "healthcheck" not in bot
    assert bot["depends_on"] == {
        "backend": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert bot["environment"]["BACKEND_URL"] == "http://backend:8000"
    assert bot["profiles"] == ["bot"]


def test_each_service_gets_only_its_own_variables() -> None:
    services = yaml.safe_load(rendered()["infra/compose.yml"])["services"]
    assert all("env_file" not in body for name, body in services.items() if name != "db")
    bot, backend = services["tg_bot"]["environment"], services["backend"]["environment"]
    # Without a value: passed on from infra/.env when set there.
    assert (bot["TELEGRAM_BOT_TOKEN"], bot["EVENTS_CLAIM_IDLE"]) == (None, None)
    assert "EVENTS_CLAIM_IDLE" not in backend and "TELEGRAM_BOT_TOKEN" not in backend
    assert backend["PROFILE"] == bot["PROFILE"] == "production"


def test_the_app_is_no_superuser_and_redis_needs_its_password() -> None:
    services = yaml.safe_load(rendered()["infra/compose.yml"])["services"]
    backend, job = services["backend"]["environment"], services["backend-migrate"]["environment"]
    assert backend["DATABASE_URL"].startswith("postgresql://${POSTGRES_APP_USER:-specfirst_app}:")
    assert "DATABASE_OWNER_URL" not in backend
    assert job["DATABASE_OWNER_URL"].startswith("postgresql://${POSTGRES_USER:-postgres}:")
    assert job["DATABASE_URL"] == backend["DATABASE_URL"] and "REDIS_URL" not in job
    assert backend["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")


def test_overlays_and_caddy() -> None:
    files = rendered()
    prod = yaml.safe_load(files["infra/compose.prod.yml"])["services"]
    assert (
        prod["backend"]["deploy"]["replicas"],
        prod["tg_bot"]["deploy"]["replicas"],
    ) == (3, 1)
    dev = yaml.safe_load(files["infra/compose.dev.yml"])["services"]
    assert dev["backend-migrate"] == dev["tg_bot"] == {"pull_policy": "never"}
    caddy = files["infra/caddy/Caddyfile"]
    assert "handle /backend/* {" in caddy and "tg_bot" not in caddy


def test_rendering_is_idempotent_and_keeps_hand_written_lines() -> None:
    once = rendered()
    assert render_all(REGISTRY, once) == once
    assert "  db:\n    image: postgres\n" in once["infra/compose.yml"]


def test_services_in_compose_are_the_registered_ones() -> None:
    assert services_in_compose(rendered()["infra/compose.yml"]) == ("backend", "tg_bot")


@pytest.mark.parametrize("text", ["services: {}\n", f"{END_MARKER}\n{BEGIN_MARKER}\n"])
def test_a_file_without_its_markers_is_an_error(text: str) -> None:
    texts = {managed.path: COMPOSE for managed in MANAGED_FILES}
    texts["infra/compose.yml"] = text
    with pytest.raises(SectionError, match="infra/compose.yml: "):
        render_all(REGISTRY, texts)


def test_caddy_refuses_a_body_declared_over_the_limit_before_proxying() -> None:
    # Caddy 2.6 counts a body its request_body limit cuts off while proxying as a failure of the
    # replica: one oversized upload left the backend out for fail_duration, and every client got
    # 503 meanwhile. Refused from its Content-Length, the body is never proxied.
    caddy = rendered()["infra/caddy/Caddyfile"]
    assert "request_body {" not in caddy
    route = caddy[caddy.index("handle /backend/* {") :]
    assert "@over_limit expression" in route
    assert route.index('error @over_limit "request body too large" 413') < route.index(
        "reverse_proxy"
    )


def test_a_web_front_end_is_served_at_the_root_after_the_apis() -> None:
    registry = load_registry(
        "services:\n"
        "  - {name: console, type: typescript-web, description: Console.}\n"
        "  - {name: backend, type: python-fastapi, description: API.}\n"
    )
    files = rendered(registry)
    caddy = files["infra/caddy/Caddyfile"]
    assert caddy.index("handle /backend/* {") < caddy.index("\thandle {")
    assert "name console" in caddy
    console = yaml.safe_load(files["infra/compose.yml"])["services"]["console"]
    assert console["environment"] == {"CONSOLE_PORT": "8080"}  # served at /: no root path
    assert console["healthcheck"]["test"][:2] == ["CMD", "wget"]
