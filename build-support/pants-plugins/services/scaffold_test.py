"""The real templates (//templates) rendered for a service of each type."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from services.registry import SERVICE_TYPES, Service
from services.scaffold import TEMPLATES_DIR, render_service
from specgen import load

# Just what the scaffolded specs refer to (shared/spec is not an input of this test).
MODELS = "models:\n  UserRegisteredEvent:\n    fields: {id: int, telegram_id: int, created_at: datetime}\n"
EVENTS = "events:\n  user_registered: {message: UserRegisteredEvent, subscribe: true}\n"

COMMON = {"BUILD", "Dockerfile", "README.md", "__init__.py", "main.py", "settings.py"}
EXPECTED_FILES = {
    "python-fastapi": COMMON | {"app.py", "app_test.py", "spec/BUILD", "spec/order_book.yaml"},
    "python-faststream": COMMON
    | {"worker.py", "worker_test.py", "spec/BUILD", "spec/order_book.yaml"},
    "default": COMMON | {"main_test.py"},
    # A web front end is not a Python service: none of the common layer.
    "typescript-web": {
        "BUILD",
        "Caddyfile",
        "Dockerfile",
        "README.md",
        "index.html",
        "package.json",
        "tsconfig.json",
        "vite.config.ts",
        "spec/BUILD",
        "spec/manifest.yaml",
        "src/app.test.ts",
        "src/app.ts",
        "src/main.tsx",
        "src/typecheck.test.ts",
    },
}


def templates() -> dict[str, str]:
    return {str(path): path.read_text() for path in Path(TEMPLATES_DIR).glob("**/*.j2")}


def scaffold(type_name: str) -> dict[str, str]:
    service_type = SERVICE_TYPES[type_name]
    service = Service(
        "order_book", service_type, "Keeps the order book.", port=service_type.http_port
    )
    prefix = f"{service_type.source_root}/order_book/"
    return {
        path[len(prefix) :]: text for path, text in render_service(service, templates()).items()
    }


PYTHON_TYPES = sorted(name for name, service_type in SERVICE_TYPES.items() if service_type.python)


@pytest.mark.parametrize("type_name", sorted(SERVICE_TYPES))
def test_each_type_renders_its_files(type_name: str) -> None:
    files = scaffold(type_name)
    assert set(files) == EXPECTED_FILES[type_name]
    for path, text in files.items():
        assert "{{" not in text and "{%" not in text, path
    assert 'repository="specfirst/order_book"' in files["BUILD"]


@pytest.mark.parametrize("type_name", PYTHON_TYPES)
def test_python_services_are_python(type_name: str) -> None:
    files = scaffold(type_name)
    for path, text in files.items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)
    assert "COPY src.python.order_book/pex-srcs.pex" in files["Dockerfile"]
    assert ("EXPOSE 8000" in files["Dockerfile"]) == (type_name == "python-fastapi")


@pytest.mark.parametrize("type_name", ["python-fastapi", "python-faststream"])
def test_the_scaffolded_spec_loads(type_name: str) -> None:
    spec = load(
        {
            "shared/spec/models.yaml": MODELS,
            "shared/spec/events.yaml": EVENTS,
            "src/python/order_book/spec/order_book.yaml": scaffold(type_name)[
                "spec/order_book.yaml"
            ],
        }
    )
    assert [domain.name for domain in spec.domains] == ["order_book"]


def test_names_derived_from_the_service_name() -> None:
    files = scaffold("python-fastapi")
    assert "class OrderBookOperations:" in files["app.py"]
    assert 'env_prefix="ORDER_BOOK_"' in files["settings.py"]


def test_a_web_front_end_builds_and_serves_its_own_files() -> None:
    files = scaffold("typescript-web")
    assert json.loads(files["package.json"])["name"] == "@specfirst/order_book"
    assert 'output_directories=["dist/order_book"]' in files["BUILD"]
    assert 'outDir: "dist/order_book"' in files["vite.config.ts"]
    assert "COPY dist/order_book /srv/order_book" in files["Dockerfile"]
    assert ":{$ORDER_BOOK_PORT:8080} {" in files["Caddyfile"]
    assert '"Keeps the order book."' in files["src/app.ts"]


def test_the_scaffolded_manifest_loads() -> None:
    manifest = scaffold("typescript-web")["spec/manifest.yaml"]
    spec = load(
        {
            "shared/spec/models.yaml": MODELS,
            "shared/spec/events.yaml": EVENTS,
            "src/typescript/order_book/spec/manifest.yaml": manifest,
        }
    )
    assert [m.service for m in spec.manifests] == ["order_book"]
