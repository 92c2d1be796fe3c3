"""generated/models.ts (an interface per model and variant) and generated/http.ts (fetch runtime)."""

from __future__ import annotations

from specgen.generators.render import render
from specgen.generators.typescript.types import FieldTypes
from specgen.ir import SpecSet


def render_models(spec: SpecSet, source: str) -> str:
    types = FieldTypes()
    schemas = [
        (schema, [(field, types.of(field)) for field in schema.fields]) for schema in spec.schemas
    ]
    return render("typescript/models.ts.j2", source, comment="//", schemas=schemas)


def render_http_runtime(source: str) -> str:
    return render("typescript/http.ts.j2", source, comment="//")
