"""What the Pants plugin calls: every output generated from one spec file of a loaded spec set."""

from __future__ import annotations

import json
import re
from typing import Dict, Tuple

from specgen.generators.asyncapi import asyncapi_document
from specgen.generators.clients import render_clients
from specgen.generators.domain import render_domain
from specgen.generators.events import render_events
from specgen.generators.models import render_models
from specgen.generators.openapi import openapi_fragment
from specgen.generators.storage import render_storage
from specgen.generators.typescript import generate_typescript
from specgen.ir import Domain, SpecSet
from specgen.layout import spec_kind

__all__ = [
    "RUNTIME_IMPORTS",
    "runtime_imports",
    "asyncapi_document",
    "generate_documents",
    "generate_python",
    "generate_typescript",
    "openapi_fragment",
]


# What the Python generated from each kind of spec imports, besides the standard library and the
# modules generated from the specs it needs. The plugin infers these dependencies from the spec's
# kind alone, without generating (as Pants' protobuf backend does from `.proto` files);
# generate_test.py holds this table to the templates.
RUNTIME_IMPORTS: Dict[str, Tuple[str, ...]] = {
    "models": ("pydantic",),
    "events": ("servicekit.events",),
    "domain": (
        "fastapi",
        "pydantic",
        "servicekit.auth",
        "servicekit.dependencies",
        "servicekit.events",
        "servicekit.preconditions",  # of a route with if_match or an ETag
        "servicekit.strict_json",
    ),
    "manifest": ("pydantic", "servicekit.http", "servicekit.preconditions"),
    # A domain's storage module, generated when it declares `storage:`.
    "storage": ("sqlalchemy", "servicekit.persistence"),
}
_DECLARES_STORAGE = re.compile(r"""^["']?storage["']?\s*:""", re.MULTILINE)


def runtime_imports(path: str, text: str) -> Tuple[str, ...]:
    """RUNTIME_IMPORTS of the spec file at `path` holding `text`, from its kind and, for a domain,
    whether it declares storage (a top-level key: no YAML parse needed)."""
    kind = spec_kind(path)
    if kind == "domain" and _DECLARES_STORAGE.search(text):
        return RUNTIME_IMPORTS[kind] + RUNTIME_IMPORTS["storage"]
    return RUNTIME_IMPORTS[kind]


def generate_python(spec: SpecSet, path: str) -> Dict[str, str]:
    """{output path relative to the source root: content} for the spec file at `path`."""
    kind = spec_kind(path)
    if kind == "models":
        return {"generated/models.py": render_models(spec, path)}
    if kind == "events":
        return {"generated/events.py": render_events(spec, path)}
    if kind == "domain":
        domain = _domain_of(spec, path)
        outputs = {f"generated/{domain.service}/{domain.name}.py": render_domain(spec, domain)}
        if domain.storage:
            storage = f"generated/{domain.service}/storage/{domain.name}.py"
            outputs[storage] = render_storage(spec, domain)
        return outputs
    if kind == "manifest":
        manifest = next(m for m in spec.manifests if m.file == path)
        return {f"generated/{manifest.service}/clients.py": render_clients(spec, manifest)}
    raise ValueError(f"{path}: no Python output for a {kind!r} spec")


def generate_documents(spec: SpecSet, path: str) -> Dict[str, str]:
    """Non-Python, non-TypeScript outputs of one spec file, for API tooling: the AsyncAPI
    document, an OpenAPI document per domain."""
    kind = spec_kind(path)
    if kind == "events":
        return {"asyncapi/events.json": _json(asyncapi_document(spec))}
    if kind == "domain":
        domain = _domain_of(spec, path)
        return {
            f"openapi/{domain.service}/{domain.name}.json": _json(openapi_fragment(spec, domain))
        }
    return {}


def _json(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _domain_of(spec: SpecSet, path: str) -> Domain:
    return next(d for d in spec.domains if d.file == path)
