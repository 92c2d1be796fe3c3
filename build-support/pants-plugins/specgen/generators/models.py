"""generated/models.py: a Pydantic v2 class per schema, enums shared by a model and its variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from specgen.generators.naming import enum_class, upper_snake
from specgen.generators.pytypes import default_value, field_annotation, needed_imports, value_literal, walk
from specgen.generators.render import render
from specgen.ir import MISSING, Field, Schema, SpecSet, TypeRef


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
    classes = [_class_view(schema) for schema in spec.schemas]
    types = [t for schema in spec.schemas for f in schema.fields for t in walk(f.type)]
    return render(
        "models.py.j2",
        source,
        imports=needed_imports(types),
        uses_field=any(line.assignment.startswith(" = Field(") for c in classes for line in c.fields),
        enums=enums,
        classes=classes,
        forward_referencing=_forward_referencing(spec.schemas),
        exported=sorted([name for name, _ in enums] + [c.name for c in classes]),
    )


def _enums(spec: SpecSet) -> List[Tuple[str, List[Tuple[str, str]]]]:
    """(class name, [(member, value)]) per enum field, first seen order."""
    found: Dict[str, List[Tuple[str, str]]] = {}
    for schema in spec.schemas:
        for field in schema.fields:
            for type_ref in walk(field.type):
                if type_ref.kind == "enum":
                    members = [(upper_snake(value), value) for value in type_ref.values]
                    found.setdefault(enum_class(schema.model, field.name), members)
    return list(found.items())


def _class_view(schema: Schema) -> ClassView:
    return ClassView(schema.class_name, schema.description, tuple(_field_line(schema, f) for f in schema.fields))


def _field_line(schema: Schema, field: Field) -> FieldLine:
    def enum_name(_: TypeRef) -> str:
        return enum_class(schema.model, field.name)

    default = default_value(field)
    arguments = [] if default is MISSING else [f"default={value_literal(default, field.type, enum_name)}"]
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
    defined = set()
    result = []
    for schema in schemas:
        referenced = {t.name for f in schema.fields for t in walk(f.type) if t.kind == "model"}
        if referenced - defined:
            result.append(schema.class_name)
        defined.add(schema.class_name)
    return result
