"""Spec types as TypeScript types."""

from __future__ import annotations

import json
from typing import Dict

from specgen.ir import Field, TypeRef

_SCALARS = {
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "string": "string",
    "datetime": "string",  # ISO 8601, as the JSON carries it
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
    inner = ts_type(type_ref.inner)
    if kind == "list":
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if kind == "dict":
        return f"Record<{ts_type(type_ref.dict_key)}, {inner}>"
    if kind == "optional":
        return f"{inner} | null"
    raise ValueError(f"unknown type kind {kind!r}")


class FieldTypes:
    """A field's TypeScript type, rendered once per TypeRef: variants share their model's types."""

    def __init__(self) -> None:
        self._by_type: Dict[int, str] = {}

    def of(self, field: Field) -> str:
        text = self._by_type.get(id(field.type))
        if text is None:
            text = self._by_type[id(field.type)] = ts_type(field.type)
        # `optional` fields may be null as well as absent; a defaulted field may only be absent.
        if field.optional and field.type.kind != "optional":
            text += " | null"
        return text
