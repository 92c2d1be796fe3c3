"""Python annotations and literals for spec types, shared by the Python generators."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Optional, Set

from specgen.generators.naming import upper_snake
from specgen.ir import (
    MISSING,
    EnumType,
    Field,
    ListType,
    ModelType,
    OptionalType,
    ScalarType,
    TypeRef,
    implied_default,
)

_SCALARS = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "string": "str",
    "datetime": "AwareDatetime",  # a naive value is a validation error
    "uuid": "uuid.UUID",
}

# Renders an enum type: the models name a shared enum class, parameters a Literal.
EnumNamer = Callable[[EnumType], str]


def literal_enum(type_ref: EnumType) -> str:
    return "Literal[" + ", ".join(repr(value) for value in type_ref.values) + "]"


def annotation(type_ref: TypeRef, enum_name: EnumNamer) -> str:
    if type(type_ref) is ScalarType:
        return _SCALARS[type_ref.name]
    if type(type_ref) is ModelType:
        return type_ref.name
    if type(type_ref) is EnumType:
        return enum_name(type_ref)
    if type(type_ref) is ListType:
        return f"list[{annotation(type_ref.of, enum_name)}]"
    if type(type_ref) is OptionalType:
        return f"{annotation(type_ref.of, enum_name)} | None"
    return f"dict[{annotation(type_ref.key, enum_name)}, {annotation(type_ref.value, enum_name)}]"


def field_annotation(field: Field, enum_name: EnumNamer) -> str:
    text = annotation(field.type, enum_name)
    if field.optional and type(field.type) is not OptionalType:
        text += " | None"
    return text


def default_value(field: Field) -> Any:
    """The field's default, MISSING when it is required."""
    if field.default is not MISSING:
        return field.default
    implied = implied_default(field.type)
    if implied is not MISSING:
        return implied
    return None if field.optional else MISSING


def value_literal(value: Any, type_ref: TypeRef, enum_name: Optional[EnumNamer] = None) -> str:
    """A default as Python source: with `enum_name`, enum values name their class's member."""
    if type(type_ref) is EnumType and enum_name is not None and value in type_ref.values:
        return f"{enum_name(type_ref)}.{upper_snake(value)}"
    if type(type_ref) is OptionalType and value is not None:
        return value_literal(value, type_ref.of, enum_name)
    return repr(value)


def needed_imports(type_refs: Iterable[TypeRef]) -> Dict[str, bool]:
    """Which standard-library names the given types use, by import line."""
    scalars: Set[str] = set()
    has_enum = False
    for type_ref in type_refs:
        if type(type_ref) is ScalarType:
            scalars.add(type_ref.name)
        elif type(type_ref) is EnumType:
            has_enum = True
    return {"datetime": "datetime" in scalars, "uuid": "uuid" in scalars, "enum": has_enum}
