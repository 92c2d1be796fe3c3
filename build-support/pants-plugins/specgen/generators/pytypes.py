"""Python annotations and literals for spec types, shared by the Python generators."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from specgen.generators.naming import upper_snake
from specgen.ir import MISSING, Field, TypeRef

_SCALARS = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "string": "str",
    "datetime": "AwareDatetime",  # a naive value is a validation error
    "uuid": "uuid.UUID",
}

# Renders an enum type: the models name a shared enum class, parameters a Literal.
EnumNamer = Callable[[TypeRef], str]


def literal_enum(type_ref: TypeRef) -> str:
    return "Literal[" + ", ".join(repr(value) for value in type_ref.values) + "]"


def annotation(type_ref: TypeRef, enum_name: EnumNamer) -> str:
    kind = type_ref.kind
    if kind == "scalar":
        return _SCALARS[type_ref.name]
    if kind == "model":
        return type_ref.name
    if kind == "enum":
        return enum_name(type_ref)
    inner = annotation(_of(type_ref), enum_name)
    if kind == "list":
        return f"list[{inner}]"
    if kind == "optional":
        return f"{inner} | None"
    if kind == "dict":
        return f"dict[{annotation(_key(type_ref), enum_name)}, {inner}]"
    raise ValueError(f"unknown type kind {kind!r}")


def field_annotation(field: Field, enum_name: EnumNamer) -> str:
    text = annotation(field.type, enum_name)
    if field.optional and field.type.kind != "optional":
        text += " | None"
    return text


def default_value(field: Field) -> Any:
    """The field's default, MISSING when it is required."""
    if field.default is not MISSING:
        return field.default
    if field.type.enum_default is not MISSING:
        return field.type.enum_default
    return None if field.optional else MISSING


def value_literal(value: Any, type_ref: TypeRef, enum_name: Optional[EnumNamer] = None) -> str:
    """A default as Python source: with `enum_name`, enum values name their class's member."""
    if type_ref.kind == "enum" and enum_name is not None and value in type_ref.values:
        return f"{enum_name(type_ref)}.{upper_snake(value)}"
    if type_ref.kind == "optional" and value is not None:
        return value_literal(value, _of(type_ref), enum_name)
    return repr(value)


def walk(type_ref: TypeRef) -> Iterator[TypeRef]:
    """The type and every type nested in it."""
    pending = [type_ref]  # depth first, the type before its key before its value type
    while pending:
        current = pending.pop()
        yield current
        if current.of is not None:
            pending.append(current.of)
        if current.key is not None:
            pending.append(current.key)


def needed_imports(type_refs: Iterable[TypeRef]) -> Dict[str, bool]:
    """Which standard-library names the given types use, by import line."""
    kinds = {(t.kind, t.name) for t in type_refs}
    return {
        "datetime": ("scalar", "datetime") in kinds,
        "uuid": ("scalar", "uuid") in kinds,
        "enum": any(kind == "enum" for kind, _ in kinds),
    }


def _of(type_ref: TypeRef) -> TypeRef:
    return _required(type_ref.of, type_ref)


def _key(type_ref: TypeRef) -> TypeRef:
    return _required(type_ref.key, type_ref)


def _required(inner: Optional[TypeRef], outer: TypeRef) -> TypeRef:
    if inner is None:
        raise ValueError(f"{outer.kind} type without an inner type")
    return inner
