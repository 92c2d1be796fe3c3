"""generated/<service>/storage/<domain>.py: a SQLAlchemy table class and a repository per model
the domain stores (`servicekit.persistence` holds what they run on)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

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
    """One column, in the words of SQLAlchemy's `sqlalchemy` namespace (its types and functions)."""

    name: str
    annotation: str  # of Mapped[]
    column_type: str  # "BigInteger()"
    nullable: bool
    primary_key: bool = False
    identity: bool = False
    server_default: Optional[str] = None  # "func.now()", "false()", 'text("0")', "'basic'"
    now_on_update: bool = False
    references: Optional[str] = None  # "users.id"
    on_delete: Optional[str] = None  # "CASCADE"

    @property
    def sqlalchemy_names(self) -> Set[str]:
        """What the column's arguments use from the sqlalchemy namespace (a quoted server
        default is a literal, whatever its text)."""
        names = {self.column_type.split("(")[0]}
        if self.references:
            names.add("ForeignKey")
        if self.identity:
            names.add("Identity")
        if self.server_default and not self.server_default.startswith(("'", '"')):
            names.add(self.server_default.split("(")[0].split(".")[0])  # func.now() -> func
        if self.now_on_update:
            names.add("func")
        return names

    @property
    def arguments(self) -> str:
        """Of mapped_column()."""
        parts = [self.column_type]
        if self.references:
            on_delete = f', ondelete="{self.on_delete}"' if self.on_delete else ""
            parts.append(f'ForeignKey("{self.references}"{on_delete})')
        if self.identity:
            parts.append("Identity()")
        if self.primary_key:
            parts.append("primary_key=True")
        if self.server_default:
            parts.append(f"server_default={self.server_default}")
        if self.now_on_update:
            parts.append("onupdate=func.now()")
        parts.append(f"nullable={self.nullable}")
        return ", ".join(parts)


@dataclass(frozen=True)
class TableView:
    storage: Storage
    record: str
    repository: str
    noun: str
    columns: List[ColumnView]
    table_args: List[str]
    int_fields: List[str]
    text_fields: List[str]
    nullable_fields: List[str]
    references: Dict[str, str]  # field -> the noun of what it refers to


def table_views(spec: SpecSet, domain: Domain) -> List[TableView]:
    tables = {storage.model: storage for storage in domain.storage}
    return [_table_view(spec, storage, tables) for storage in domain.storage]


def render_storage(spec: SpecSet, domain: Domain) -> str:
    views = table_views(spec, domain)
    sqlalchemy_names = (
        {name for view in views for column in view.columns for name in column.sqlalchemy_names}
        | {"UniqueConstraint" for view in views if view.storage.unique}
        | {"Index" for view in views if view.storage.indexes}
    )
    return render(
        "storage.py.j2",
        domain.file,
        domain=domain,
        tables=views,
        sqlalchemy_names=sorted(sqlalchemy_names),
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
        reference = references.get(field.name)
        target = tables[reference.model] if reference else None
        server_default = _server_default(field, storage)
        key = field.name == storage.primary_key
        if key and python_type == "uuid.UUID":
            server_default = "func.gen_random_uuid()"
        if python_type == "int":
            int_fields.append(field.name)
        if field.optional:
            nullable_fields.append(field.name)
        columns.append(
            ColumnView(
                name=field.name,
                annotation=f"{python_type} | None" if field.optional else python_type,
                column_type=column_type,
                nullable=field.optional,
                primary_key=key,
                identity=key and python_type == "int",
                server_default=server_default,
                now_on_update=field.name in storage.set_now_on_update,
                references=f"{target.table}.{target.primary_key}" if target else None,
                on_delete=_ON_DELETE.get(reference.on_delete) if reference else None,
            )
        )
    table_args = [
        f'UniqueConstraint({", ".join(repr(name) for name in fields)})' for fields in storage.unique
    ] + [
        # Named by the naming convention, which shortens a name over PostgreSQL's 63 characters.
        f'Index(None, {", ".join(repr(name) for name in fields)})'
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
        text_fields=[c.name for c in columns if c.column_type.startswith(("Text(", "String("))],
        nullable_fields=nullable_fields,
        references={r.field: _noun(r.model) for r in storage.references},
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
    if field.name == storage.version:
        return 'text("1")'
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
