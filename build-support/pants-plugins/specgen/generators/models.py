"""generated/models.py: a Pydantic v2 class per schema, enums shared by a model and its variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

from specgen.generators.naming import enum_class, upper_snake
from specgen.generators.pytypes import (
    default_value,
    field_annotation,
    needed_imports,
    value_literal,
)
from specgen.generators.render import render
from specgen.ir import MISSING, EnumType, Field, Schema, SpecSet, TypeRef, model_names, walk


@dataclass(frozen=True)
class FieldLine:
    name: str
    annotation: str
    assignment: str  # " = ..." or ""


@dataclass(frozen=True)
class ClassView:
    name: str
    description: Optional[str]
    fields: Tuple[FieldLine, ...]


def render_models(spec: SpecSet, source: str) -> str:
    enums = _enums(spec)
    lines: Dict[Tuple[str, int], FieldLine] = (
        {}
    )  # a variant shares most Field objects with its model
    classes = [_class_view(schema, lines) for schema in spec.schemas]
    return render(
        "models.py.j2",
        source,
        imports=needed_imports(_field_types(spec.schemas)),
        uses_field=any(
            line.assignment.startswith(" = Field(") for c in classes for line in c.fields
        ),
        enums=enums,
        classes=classes,
        forward_referencing=_forward_referencing(spec.schemas),
        exported=sorted([name for name, _ in enums] + [c.name for c in classes]),
    )


def _field_types(schemas: Tuple[Schema, ...]) -> List[TypeRef]:
    """Every type of every field, nested ones included; each distinct TypeRef object walked once."""
    seen: Dict[int, TypeRef] = {}
    for schema in schemas:
        for f in schema.fields:
            seen.setdefault(id(f.type), f.type)
    return [t for type_ref in seen.values() for t in walk(type_ref)]


def _enums(spec: SpecSet) -> List[Tuple[str, List[Tuple[str, str]]]]:
    """(class name, [(member, value)]) per enum field, first seen order."""
    found: Dict[str, List[Tuple[str, str]]] = {}
    visited = set()  # a variant repeats its model's fields: the same enum class, already found
    for schema in spec.schemas:
        for field in schema.fields:
            seen = (schema.model, field.name, id(field.type))
            if seen in visited:
                continue
            visited.add(seen)
            for type_ref in walk(field.type):
                if type(type_ref) is EnumType:
                    members = [(upper_snake(value), value) for value in type_ref.values]
                    found.setdefault(enum_class(schema.model, field.name), members)
    return list(found.items())


def _class_view(schema: Schema, lines: Dict[Tuple[str, int], FieldLine]) -> ClassView:
    fields = []
    for f in schema.fields:
        key = (schema.model, id(f))  # the Field objects outlive the render: ids stay unique
        line = lines.get(key)
        if line is None:
            line = lines[key] = _field_line(schema, f)
        fields.append(line)
    return ClassView(schema.class_name, schema.description, tuple(fields))


def _field_line(schema: Schema, field: Field) -> FieldLine:
    def enum_name(_: EnumType) -> str:
        return enum_class(schema.model, field.name)

    default = default_value(field)
    arguments = (
        [] if default is MISSING else [f"default={value_literal(default, field.type, enum_name)}"]
    )
    arguments += [f"{name}={value!r}" for name, value in field.constraints]
    if field.description:
        arguments.append(f"description={field.description!r}")
    if default is not MISSING and len(arguments) == 1:
        assignment = " = " + arguments[0][len("default=") :]
    elif arguments:
        assignment = " = Field(" + ", ".join(arguments) + ")"
    else:
        assignment = ""
    return FieldLine(field.name, field_annotation(field, enum_name), assignment)


def _forward_referencing(schemas: Tuple[Schema, ...]) -> List[str]:
    """Classes naming a class defined after them (or themselves): they need model_rebuild()."""
    defined: Set[str] = set()
    result = []
    references: Dict[int, List[str]] = {}  # per TypeRef object: variants share their model's types
    for schema in schemas:
        referenced = set()
        for f in schema.fields:
            names = references.get(id(f.type))
            if names is None:
                names = references[id(f.type)] = model_names(f.type)
            referenced.update(names)
        if referenced - defined:
            result.append(schema.class_name)
        defined.add(schema.class_name)
    return result
