"""models.ts: an interface per schema for the frontends."""

from __future__ import annotations

import json
from typing import Dict

from specgen.generators.render import render
from specgen.ir import SpecSet, TypeRef

_SCALARS = {
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "string": "string",
    "datetime": "string",
    "uuid": "string",
}


def ts_type(type_ref: TypeRef) -> str:
    kind = type_ref.kind
    if kind == "scalar":
        return _SCALARS[type_ref.name]
    if kind == "model":
        return type_ref.name
    if kind == "enum":
        return " | ".join(json.dumps(value) for value in type_ref.values)
    assert type_ref.of is not None, kind
    inner = ts_type(type_ref.of)
    if kind == "list":
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if kind == "dict":
        assert type_ref.key is not None
        return f"Record<{ts_type(type_ref.key)}, {inner}>"
    if kind == "optional":
        return f"{inner} | null"
    raise ValueError(f"unknown type kind {kind!r}")


def render_typescript(spec: SpecSet, source: str) -> str:
    types: Dict[int, str] = {}  # per TypeRef object: variants share their model's field types
    schemas = []
    for schema in spec.schemas:
        fields = []
        for field in schema.fields:
            text = types.get(id(field.type))
            if text is None:
                text = types[id(field.type)] = ts_type(field.type)
            fields.append((field, text))
        schemas.append((schema, fields))
    return render("models.ts.j2", source, comment="//", schemas=schemas)
