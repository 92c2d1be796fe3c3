"""`shared/spec/models.yaml`: models, their fields and their variant classes.

    models:
      <CamelCase>:                  MODEL
        fields: {<identifier>: FIELD or a type text}
        variants: {<CamelCase>: VARIANT}

A field's model references are resolved after every models file is read (`cross_file_checks`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, List, Optional, Tuple

from specgen.checks import (
    Shape,
    did_you_mean,
    expect_bool,
    expect_mapping,
    is_camel_case,
    is_identifier,
    optional_string,
    section,
    show,
    string_list,
)
from specgen.ir import MISSING, Field, Model, OptionalType, Schema
from specgen.kinds.catalog import Catalog, FieldSite
from specgen.layout import MODELS
from specgen.type_grammar import CONSTRAINTS, fits, read_constraints, read_type, type_text
from specgen.yaml_reader import Document, KeyPath

MODEL = Shape(required=("fields",), optional=("variants", "description"))
FIELD = Shape(
    required=("type",),
    optional=("readonly", "default", "optional", "description", "admin_only") + CONSTRAINTS,
)
VARIANT = Shape(optional=("exclude", "optional"))
VARIANTS_WITHOUT_READONLY = ("Create", "Update")  # readonly fields are server-owned


def read_models(doc: Document, root: Any, catalog: Catalog) -> None:
    for name, value in section(doc, root, MODELS).items():
        path = (MODELS, name)
        if not is_camel_case(name):
            doc.error(path, f"model name '{name}' is not CamelCase")
            continue
        if name in catalog.model_files:
            doc.error(path, f"model '{name}' is already defined in {catalog.model_files[name]}")
            continue
        catalog.model_files[name] = doc.file
        body = MODEL.read(doc, path, value)
        if body is not None:
            _add_model(doc, path, name, body, catalog)


def _add_model(doc: Document, path: KeyPath, name: str, body: dict, catalog: Catalog) -> None:
    fields = _fields(doc, path + ("fields",), name, body.get("fields"), catalog)
    description = optional_string(doc, path, body, "description")
    schema = Schema(name, name, None, fields, description)
    variants = []
    for variant_name, value in (
        expect_mapping(doc, path + ("variants",), body.get("variants"), True) or {}
    ).items():
        variant = _variant(
            doc, path + ("variants", variant_name), schema, variant_name, value, catalog
        )
        if variant is not None:
            variants.append(variant)
    if name in catalog.schemas:  # a variant class of an earlier model took the name
        doc.error(
            path,
            f"model '{name}' collides with a variant class of model '{catalog.schemas[name].model}'",
        )
    catalog.schemas[name] = schema
    for variant in variants:
        catalog.schemas[variant.class_name] = variant
    catalog.models.append(Model(name, schema, tuple(variants)))


def _fields(
    doc: Document, path: KeyPath, model: str, value: Any, catalog: Catalog
) -> Tuple[Field, ...]:
    fields = []
    for name, body in (expect_mapping(doc, path, value, null_is_empty=True) or {}).items():
        field = _field(doc, path + (name,), model, name, body, catalog)
        if field is not None:
            fields.append(field)
    return tuple(fields)


def _field(
    doc: Document, path: KeyPath, model: str, name: str, value: Any, catalog: Catalog
) -> Optional[Field]:
    if not is_identifier(name) or name.startswith("_"):
        doc.error(path, f"field name '{name}' is not a Python identifier")
        return None
    body: Optional[dict]
    if isinstance(value, str):  # shorthand: `age: int`
        body, type_path = {"type": value}, path
    else:
        body, type_path = FIELD.read(doc, path, value), path + ("type",)
        if body is None:
            return None
    type_ = read_type(doc, type_path, body["type"]) if "type" in body else None
    if type_ is None:
        return None
    optional = expect_bool(doc, path, body, "optional", False)
    default = body.get("default", MISSING)
    if default is not MISSING and not fits(OptionalType(type_) if optional else type_, default):
        doc.error(
            path + ("default",),
            f"default {show(default)} does not fit type '{type_text(type_)}'",
        )
    readonly = expect_bool(doc, path, body, "readonly", False)
    admin_only = expect_bool(doc, path, body, "admin_only", False)
    if admin_only and readonly:
        doc.error(
            path + ("admin_only",),
            f"field '{name}' is readonly: no client sets it, so admin_only says nothing",
            "remove one of readonly and admin_only",
        )
    field = Field(
        name=name,
        type=type_,
        readonly=readonly,
        admin_only=admin_only,
        optional=optional,
        default=default,
        description=optional_string(doc, path, body, "description"),
        constraints=read_constraints(doc, path, body, type_),
    )
    catalog.field_sites.append(FieldSite(doc, type_path, model, field))
    return field


def _variant(
    doc: Document, path: KeyPath, model: Schema, name: str, value: Any, catalog: Catalog
) -> Optional[Schema]:
    if not is_camel_case(name):
        doc.error(path, f"variant name '{name}' is not CamelCase")
        return None
    body = VARIANT.read(doc, path, value, null_is_empty=True)
    if body is None:
        return None
    class_name = model.model + name
    if class_name in catalog.model_files or class_name in catalog.schemas:
        owner = (
            class_name if class_name in catalog.model_files else catalog.schemas[class_name].model
        )
        doc.error(path, f"variant class '{class_name}' collides with a class of model '{owner}'")
        return None
    drops_readonly = name in VARIANTS_WITHOUT_READONLY
    excluded = {
        field for _, field in _field_names(doc, path + ("exclude",), model, body.get("exclude"))
    }
    optional = set()
    for index, field_name in _field_names(doc, path + ("optional",), model, body.get("optional")):
        field = next(field for field in model.fields if field.name == field_name)
        if field_name in excluded:
            doc.error(
                path + ("optional", index),
                f"field '{field_name}' is both excluded and optional",
            )
        elif drops_readonly and field.readonly:
            doc.error(
                path + ("optional", index),
                f"field '{field_name}' is readonly",
                f"readonly fields are not part of {class_name}; remove it from the list",
            )
        optional.add(field_name)
    fields = tuple(
        replace(field, optional=True) if field.name in optional else field
        for field in model.fields
        if field.name not in excluded and not (drops_readonly and field.readonly)
    )
    return Schema(class_name, model.model, name, fields, model.description)


def _field_names(doc: Document, path: KeyPath, model: Schema, value: Any) -> List[Tuple[int, str]]:
    known = [field.name for field in model.fields]
    names = []
    for index, name in string_list(doc, path, value):
        if name in known:
            names.append((index, name))
        else:
            doc.error(
                path + (index,),
                f"model '{model.model}' has no field '{name}'",
                did_you_mean(name, known),
            )
    return names
