"""A domain's first Alembic migration, written when its service is scaffolded: the tables of its
`storage:` as Alembic's autogenerate would create them (generators/storage.py decides the
columns; the scaffolded service's tests run `alembic check` to hold the two together). Later
migrations come from autogenerate itself."""

from __future__ import annotations

import re
from typing import List

from specgen.generators.render import render
from specgen.generators.storage import TableView, table_views
from specgen.ir import Domain, SpecSet

_SQLALCHEMY_NAME = re.compile(r"\b(func|false|true|text)\b")


def render_initial_migration(spec: SpecSet, domain: Domain, message: str) -> str:
    views = _creation_order(table_views(spec, domain))
    text = render(
        "migration.py.j2",
        domain.file,
        message=message,
        spec_file=domain.file,
        tables=views,
        in_sqlalchemy=_in_sqlalchemy,
    )
    # A migration is a reviewed file of the service, not generated code: no do-not-edit header.
    return text.split("\n", 1)[1]


def _in_sqlalchemy(expression: str) -> str:
    """`func.now()` -> `sa.func.now()`; a quoted literal stays as it is."""
    if expression.startswith(("'", '"')):
        return expression
    return _SQLALCHEMY_NAME.sub(r"sa.\1", expression)


def _creation_order(views: List[TableView]) -> List[TableView]:
    """Each table after the tables it refers to (a table may refer to itself)."""
    ordered: List[TableView] = []
    pending = list(views)
    while pending:
        created = {view.storage.table for view in ordered}
        ready = next(
            view
            for view in pending
            if all(
                column.references is None
                or column.references.split(".")[0] in created | {view.storage.table}
                for column in view.columns
            )
        )
        ordered.append(ready)
        pending.remove(ready)
    return ordered
