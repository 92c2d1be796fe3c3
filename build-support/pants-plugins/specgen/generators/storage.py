"""generated/<service>/storage/<domain>.py: a SQLAlchemy table class and a repository per model
the domain stores (`servicekit.persistence` holds what they run on)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from specgen.generators.render import render
from specgen.ir import (
    MISSING,
    EnumType,
    Field,
    OptionalType,
    ScalarType,
    Domain,
    SpecSet,
    Storage,
    TypeRef,
)

# Column types and Mapped[] annotations of scalar fields; enums are text, anything else JSON.
_COLUMN_TYPES = {
    "int": ("BigInteger()", "int"),
    "float": ("Double()", "float"),
    "bool": ("Boolean()", "bool"),
    "string": ("Text()", "str"),
    "datetime": ("DateTime(timezone=True)", "datetime"),
    "uuid": ("Uuid()", "uuid.UUID"),
}
_ON_DELETE = {"cascade": "CASCADE", "restrict": "RESTRICT", "set_null": "SET NULL"}


@dataclass(frozen=True)
class ColumnView:
    name: str
    annotation: str
    arguments: str  # of mapped_column()


@dataclass(frozen=True)
class TableView:
    storage: Storage
    record: str
    repository: str
    noun: str
    columns: List[ColumnView]
    table_args: List[str]
    int_fields: List[str]
    nullable_fields: List[str]
    references: Dict[str, Tuple[str, str]]  # constraint name -> (field, noun)


def render_storage(spec: SpecSet, domain: Domain) -> str:
    tables = {storage.model: storage for storage in domain.storage}
    views = [_table_view(spec, storage, tables) for storage in domain.storage]
    column_types = sorted(
        {
            match
            for view in views
            for column in view.columns
            for match in re.findall(r"\b([A-Z][A-Za-z]+)\(", column.arguments)
        }
        | {"UniqueConstraint" for view in views if view.storage.unique}
        | {"Index" for view in views if view.storage.indexes}
    )
    return render(
        "storage.py.j2",
        domain.file,
        domain=domain,
        tables=views,
        sqlalchemy_names=column_types,
        functions=sorted(
            {
                name
                for view in views
                for column in view.columns
                for name in re.findall(r"\b(func|false|true|text)\b", column.arguments)
            }
        ),
        uses=_annotations_used(views),
    )


def _annotations_used(views: List[TableView]) -> Dict[str, bool]:
    text = " ".join(column.annotation for view in views for column in view.columns)
    return {"datetime": "datetime" in text, "uuid": "uuid." in text, "any": "Any" in text}


def _table_view(spec: SpecSet, storage: Storage, tables: Dict[str, Storage]) -> TableView:
    model = spec.schema(storage.model)
    references = {reference.field: reference for reference in storage.references}
    columns = []
    int_fields, nullable_fields = [], []
    for field in model.fields:
        column_type, python_type = _column_type(field)
        arguments = [column_type]
        nullable = field.optional
        reference = references.get(field.name)
        if reference is not None:
            target = tables[reference.model]
            on_delete = _ON_DELETE.get(reference.on_delete)
            arguments.append(
                f'ForeignKey("{target.table}.{target.primary_key}"'
                + (f', ondelete="{on_delete}"' if on_delete else "")
                + ")"
            )
        server_default = _server_default(field, storage)
        if field.name == storage.primary_key:
            if python_type == "int":
                arguments.append("Identity()")
            elif python_type == "uuid.UUID":
                server_default = "func.gen_random_uuid()"
            arguments.append("primary_key=True")
        if server_default:
            arguments.append(f"server_default={server_default}")
        if field.name in storage.set_now_on_update:
            arguments.append("onupdate=func.now()")
        arguments.append(f"nullable={nullable}")
        if python_type == "int":
            int_fields.append(field.name)
        if nullable:
            nullable_fields.append(field.name)
        annotation = f"{python_type} | None" if nullable else python_type
        columns.append(ColumnView(field.name, annotation, ", ".join(arguments)))
    table_args = [
        f'UniqueConstraint({", ".join(repr(name) for name in fields)})' for fields in storage.unique
    ] + [
        f'Index("ix_{storage.table}_{"_".join(fields)}", '
        + ", ".join(repr(name) for name in fields)
        + ")"
        for fields in storage.indexes
    ]
    return TableView(
        storage=storage,
        record=f"{storage.model}Record",
        repository=f"{storage.model}Repository",
        noun=_noun(storage.model),
        columns=columns,
        table_args=table_args,
        int_fields=int_fields,
        nullable_fields=nullable_fields,
        references={
            f"fk_{storage.table}_{r.field}_{tables[r.model].table}": (r.field, _noun(r.model))
            for r in storage.references
        },
    )


def _base(type_: TypeRef) -> TypeRef:
    return type_.of if type(type_) is OptionalType else type_


def _column_type(field: Field) -> Tuple[str, str]:
    base = _base(field.type)
    if type(base) is ScalarType:
        column_type, python_type = _COLUMN_TYPES[base.name]
        max_length = dict(field.constraints).get("max_length")
        if base.name == "string" and max_length is not None:
            column_type = f"String({max_length})"
        return column_type, python_type
    if type(base) is EnumType:
        return "Text()", "str"
    return "JSON()", "Any"


def _server_default(field: Field, storage: Storage) -> Optional[str]:
    """The column's default on the database's side: inserts by any client get it too."""
    if field.name in storage.set_now_on_create:
        return "func.now()"
    default = field.default
    if default is MISSING and type(_base(field.type)) is EnumType:
        default = _base(field.type).default  # type: ignore[union-attr]
    if default is MISSING or default is None or isinstance(default, (list, dict)):
        return None
    if isinstance(default, bool):
        return "true()" if default else "false()"
    if isinstance(default, (int, float)):
        return f'text("{default!r}")'
    return repr(str(default))


def _noun(model: str) -> str:
    """`OrderItem` -> "order item", for messages."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model).lower()
