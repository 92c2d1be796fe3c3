"""JSON Schemas (OpenAPI 3.1 / AsyncAPI flavour) of spec types and schemas, `$ref`s transitive."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from specgen.generators.pytypes import default_value
from specgen.ir import (
    MISSING,
    DictType,
    EnumType,
    Field,
    ListType,
    ModelType,
    OptionalType,
    ScalarType,
    Schema,
    SpecSet,
    TypeRef,
    model_names,
)

COMPONENTS = "#/components/schemas/"

_SCALARS: Dict[str, Dict[str, str]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "string": {"type": "string"},
    "datetime": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
}
_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}
_LENGTHS = {ListType: ("minItems", "maxItems"), DictType: ("minProperties", "maxProperties")}


def type_schema(type_ref: TypeRef) -> Dict[str, Any]:
    if type(type_ref) is ScalarType:
        return dict(_SCALARS[type_ref.name])
    if type(type_ref) is ModelType:
        return {"$ref": COMPONENTS + type_ref.name}
    if type(type_ref) is EnumType:
        return {"type": "string", "enum": list(type_ref.values)}
    if type(type_ref) is ListType:
        return {"type": "array", "items": type_schema(type_ref.of)}
    if type(type_ref) is OptionalType:
        return nullable(type_schema(type_ref.of))
    return {"type": "object", "additionalProperties": type_schema(type_ref.value)}


def nullable(schema: Dict[str, Any]) -> Dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def constrained(type_ref: TypeRef, constraints: Tuple[Tuple[str, Any], ...]) -> Dict[str, Any]:
    """The type's schema with the spec's bounds as JSON Schema keywords."""
    schema = type_schema(type_ref)
    # On an optional type the keywords go on its anyOf, where they apply to the value, not null:
    # which ones the inner type decides (an optional list has items, not characters).
    bounded = type_ref.of if type(type_ref) is OptionalType else type_ref
    minimum, maximum = _LENGTHS.get(type(bounded), ("minLength", "maxLength"))
    keywords = dict(
        _BOUNDS, min_length=minimum, max_length=maximum, pattern="pattern", multiple_of="multipleOf"
    )
    for name, value in constraints:
        schema[keywords[name]] = value
    return schema


def described(schema: Dict[str, Any], description: Any, default: Any) -> Dict[str, Any]:
    if description:
        schema["description"] = description
    if default is not MISSING:
        schema["default"] = default
    return schema


def field_schema(field: Field) -> Dict[str, Any]:
    schema = constrained(field.type, field.constraints)
    if field.optional and type(field.type) is not OptionalType:
        schema = nullable(schema)
    return described(schema, field.description, default_value(field))


def object_schema(schema: Schema) -> Dict[str, Any]:
    result: Dict[str, Any] = {"title": schema.class_name, "type": "object"}
    if schema.description:
        result["description"] = schema.description
    result["properties"] = {field.name: field_schema(field) for field in schema.fields}
    required = [field.name for field in schema.fields if field.required]
    if required:
        result["required"] = required
    result["additionalProperties"] = False
    return result


def component_schemas(spec: SpecSet, roots: Iterable[str]) -> Dict[str, Dict[str, Any]]:
    """The object schemas of `roots` and of every class they reference, sorted by name."""
    by_name = {schema.class_name: schema for schema in spec.schemas}
    found: Dict[str, Dict[str, Any]] = {}
    pending: List[str] = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        schema = by_name[name]
        found[name] = object_schema(schema)
        pending += [name for f in schema.fields for name in model_names(f.type)]
    return {name: found[name] for name in sorted(found)}
