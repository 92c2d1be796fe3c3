"""The checks that need every file read first: model references, and operations within a service."""

from __future__ import annotations

from typing import Dict, Tuple

from specgen.checks import did_you_mean
from specgen.ir import ModelType, model_names
from specgen.kinds.catalog import Catalog
from specgen.kinds.rest import route_shape


def check_field_types(catalog: Catalog) -> None:
    """Every model a field names exists, and no model contains itself without a way to stop."""
    for site in catalog.field_sites:
        for name in model_names(site.field.type):
            if name not in catalog.schemas:
                site.doc.error(
                    site.type_path,
                    f"unknown type '{name}'",
                    did_you_mean(name, list(catalog.schemas)),
                )
        contained = site.field.type
        if (
            type(contained) is ModelType
            and not site.field.optional
            and contained.name in catalog.schemas
            and catalog.schemas[contained.name].model == site.model
        ):
            site.doc.error(
                site.type_path,
                f"model '{site.model}' contains itself",
                "make the field optional or a list",
            )


def check_services(catalog: Catalog) -> None:
    """Operation names, routes and tables are unique within a service, across its domains."""
    names: Dict[Tuple[str, str], str] = {}
    routes: Dict[Tuple[str, str, str], str] = {}
    tables: Dict[Tuple[str, str], str] = {}  # one metadata per service holds a table once
    for (service, _), (domain, doc) in sorted(catalog.domains.items()):
        for storage in domain.storage:
            earlier = tables.setdefault((service, storage.table), domain.file)
            if earlier != domain.file:
                doc.error(
                    ("storage", storage.model, "table"),
                    f"table '{storage.table}' is already stored by {earlier}",
                    "a service's domains share one database: name the table apart",
                )
        for operation in domain.operations:
            path = ("operations", operation.name)
            earlier = names.setdefault((service, operation.name), domain.file)
            if earlier != domain.file:
                doc.error(path, f"operation '{operation.name}' is already defined in {earlier}")
            if operation.rest is None:
                continue
            full_path = domain.prefix + operation.rest.path
            route = (service, operation.rest.method, route_shape(full_path))
            owner = routes.setdefault(route, f"{domain.name}.{operation.name}")
            if owner != f"{domain.name}.{operation.name}":
                doc.error(
                    path + ("rest",),
                    f"route {operation.rest.method} {full_path} is already used by {owner}",
                )
