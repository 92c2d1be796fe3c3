"""Spec types as TypeScript types."""

from __future__ import annotations

import json
from typing import Dict

from specgen.ir import (
    EnumType,
    Field,
    ListType,
    ModelType,
    OptionalType,
    ScalarType,
    TypeRef,
)

_SCALARS = {
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "string": "string",
    "datetime": "string",  # ISO 8601, as the JSON carries it
    "uuid": "string",
}


def ts_type(type_ref: TypeRef) -> str:
    if type(type_ref) is ScalarType:
        return _SCALARS[type_ref.name]
    if type(type_ref) is ModelType:
        return type_ref.name
    if type(type_ref) is EnumType:
        return " | ".join(json.dumps(value) for value in type_ref.values)
    if type(type_ref) is ListType:
        element = ts_type(type_ref.of)
        return f"({element})[]" if " | " in element else f"{element}[]"
    if type(type_ref) is OptionalType:
        return f"{ts_type(type_ref.of)} | null"
    return f"Record<{ts_type(type_ref.key)}, {ts_type(type_ref.value)}>"


class FieldTypes:
    """A field's TypeScript type, rendered once per TypeRef: variants share their model's types."""

    def __init__(self) -> None:
        self._by_type: Dict[int, str] = {}

    def of(self, field: Field) -> str:
        text = self._by_type.get(id(field.type))
        if text is None:
            text = self._by_type[id(field.type)] = ts_type(field.type)
        # `optional` fields may be null as well as absent; a defaulted field may only be absent.
        if field.optional and type(field.type) is not OptionalType:
            text += " | null"
        return text
