"""Generation itself (runs on Python 3.9 too): outputs, headers, determinism, ruff-clean code."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from specgen import load
from specgen.generate import (
    runtime_imports,
    asyncapi_document,
    generate_python,
    generate_typescript,
    openapi_fragment,
)
from specgen.generators.conftest import (
    COMPAT,
    SHOP,
    TEMPLATE,
    generate_all,
    read_specs,
    write_outputs,
)
from specgen.generators.jsonschema import object_schema


def test_compat_specs_generate_one_module_per_file() -> None:
    assert sorted(generate_all(read_specs(COMPAT))) == [
        "generated/backend/debug.py",
        "generated/backend/users.py",
        "generated/events.py",
        "generated/models.py",
        "generated/tg_bot/clients.py",
    ]


def test_every_output_names_its_spec_file() -> None:
    files = read_specs(SHOP)
    spec = load(files)
    for path in files:
        for text in generate_python(spec, path).values():
            assert text.startswith(f"# generated from {path} by specgen; do not edit\n")
        for text in generate_typescript(spec, path).values():
            assert text.startswith(f"// generated from {path} by specgen; do not edit\n")


def test_generation_is_deterministic() -> None:
    for root in (SHOP, COMPAT):
        files = read_specs(root)
        first, second = generate_all(files), generate_all(dict(reversed(list(files.items()))))
        assert first == second
        for path in files:
            assert generate_typescript(load(files), path) == generate_typescript(load(files), path)


def _imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("root", [SHOP, COMPAT, TEMPLATE], ids=["shop", "compat", "template"])
def test_runtime_imports_name_what_generated_code_imports(root: Path) -> None:
    """The plugin infers dependencies from RUNTIME_IMPORTS without generating: it must list
    every module generated code imports that is neither standard library nor generated."""
    files = read_specs(root)
    spec = load(files)
    for path in files:
        declared = runtime_imports(path, files[path])
        for output, source in generate_python(spec, path).items():
            imported = {
                module
                for module in _imported_modules(source)
                if module.split(".")[0] not in (*sys.stdlib_module_names, "generated")
            }
            assert imported <= set(declared), f"{output}: add {imported - set(declared)}"


def _ruff() -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    return ruff


@pytest.mark.parametrize("root", [SHOP, COMPAT], ids=["shop", "compat"])
def test_generated_code_passes_ruff(root: Path, tmp_path: Path) -> None:
    write_outputs(generate_all(read_specs(root)), tmp_path)
    result = subprocess.run(
        [_ruff(), "check", "--no-cache", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_typescript_interfaces() -> None:
    text = generate_typescript(load(read_specs(SHOP)), "shared/spec/models.yaml")[
        "generated/models.ts"
    ]
    assert "export interface CustomerCreate {\n" in text
    assert '  tier?: "basic" | "gold";\n' in text
    assert "  age?: number | null;\n" in text
    assert "  id: string;\n" in text  # uuid
    assert "  previous?: Address[];\n" in text
    assert "  tags?: Record<string, number>;\n" in text
    assert "  referrer?: Customer | null;\n" in text
    assert "  created_at: string;\n" in text
    assert (
        "export interface CustomerCreate {\n  /** Display name */\n  name: string;" in text
    )  # no readonly id


def test_asyncapi_channels_are_the_streams() -> None:
    document = asyncapi_document(load(read_specs(SHOP)))
    assert document["asyncapi"] == "2.6.0"
    assert list(document["channels"]) == [
        "events.customer_created",
        "events.customer_rejected",
        "events.customer_imported",
    ]
    imported = document["channels"]["events.customer_imported"]
    assert set(imported) == {"publish", "subscribe"}
    assert document["components"]["messages"]["customer_imported"]["payload"] == {
        "$ref": "#/components/schemas/CustomerCreate"
    }
    # referenced schemas are included transitively
    assert {"Address", "Customer", "CustomerChanged", "CustomerCreate", "CustomerRejected"} <= set(
        document["components"]["schemas"]
    )


def test_openapi_fragment_references_resolve() -> None:
    spec = load(read_specs(SHOP))
    fragment = openapi_fragment(spec, spec.domain("shop", "customers"))
    schemas = fragment["components"]["schemas"]
    refs: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            refs.update(value for key, value in node.items() if key == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(fragment)
    assert refs == {"#/components/schemas/" + name for name in schemas}
    listing = fragment["paths"]["/customers"]["get"]
    assert listing["parameters"][0] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
    }
    assert fragment["paths"]["/customers/{customer_id}"]["delete"]["responses"]["204"] == {
        "description": "Successful Response"
    }


def test_a_length_bound_on_an_optional_list_bounds_its_items() -> None:
    spec = load(
        {
            "shared/spec/models.yaml": (
                "models:\n"
                "  Note:\n"
                "    fields:\n"
                "      tags:\n"
                "        type: {type: optional, of: 'list[string]'}\n"
                "        max_length: 3\n"
            )
        }
    )
    tags = object_schema(spec.schema("Note"))["properties"]["tags"]
    assert tags["maxItems"] == 3 and "maxLength" not in tags


def test_storage_imports_what_its_columns_use_and_no_word_of_a_literal() -> None:
    """A string default spelled like a sqlalchemy function ("text") is a quoted literal."""
    files = {
        "shared/spec/models.yaml": (
            "models:\n  Note:\n    fields:\n      id: {type: int, readonly: true}\n"
            "      kind: {type: string, default: text}\n"
        ),
        "notes/spec/notes.yaml": (
            "storage:\n  Note: {table: notes, primary_key: id}\n"
            'operations:\n  ping: {auth: public, rest: {method: GET, path: ""}}\n'
        ),
    }
    source = generate_python(load(files), "notes/spec/notes.yaml")[
        "generated/notes/storage/notes.py"
    ]
    assert "from sqlalchemy import BigInteger, Identity, Text\n" in source
    assert "server_default='text'" in source
