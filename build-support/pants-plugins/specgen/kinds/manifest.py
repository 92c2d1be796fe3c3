"""`<service>/spec/manifest.yaml`: the other services' operations a service calls over HTTP.

    consumes:
      - CONSUMED                    {service, domain, operations: [<operation>...]}

An empty or missing operations list means every REST operation of that domain. Which domains a
manifest names is read from the manifest alone (`consumed_domains`, for the Pants plugin to know
which specs it needs); that they exist and have those operations, against the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, FrozenSet, List, Optional, Tuple

from specgen.checks import Shape, describe, did_you_mean, expect_string, string_list
from specgen.ir import Consumed, Manifest
from specgen.kinds.catalog import Catalog
from specgen.layout import SpecPath
from specgen.yaml_reader import Document, KeyPath, parse_yaml

MANIFEST_FILE = Shape(optional=("consumes",))
CONSUMED = Shape(required=("service", "domain"), optional=("operations",))


@dataclass(frozen=True)
class ConsumedEntry:
    """A `consumes` entry as written, naming a service and a domain."""

    path: KeyPath  # ("consumes", <index>)
    service: str
    domain: str
    operations: Any


def read_manifest(spec: SpecPath, doc: Document, root: Any, catalog: Catalog) -> None:
    consumed = []
    for entry in consumed_entries(doc, root):
        checked = _consumed(doc, entry, catalog)
        if checked is not None:
            consumed.append(checked)
    catalog.manifests[spec.service] = Manifest(spec.service, doc.file, tuple(consumed))


def consumed_entries(doc: Document, root: Any) -> List[ConsumedEntry]:
    """The entries that name a service and a domain; every problem of shape is recorded on `doc`."""
    body = MANIFEST_FILE.read(doc, (), root)
    items = body.get("consumes") if body is not None else None
    if items is not None and not isinstance(items, list):
        doc.error(("consumes",), f"expected a list, got {describe(items)}")
        return []
    entries = []
    for index, item in enumerate(items or []):
        path: KeyPath = ("consumes", index)
        entry = CONSUMED.read(doc, path, item)
        if entry is None:
            continue
        service, domain = (
            expect_string(doc, path + (key,), entry[key]) if key in entry else None
            for key in ("service", "domain")
        )
        if service is not None and domain is not None:
            entries.append(ConsumedEntry(path, service, domain, entry.get("operations")))
    return entries


def consumed_domains(path: str, text: str) -> FrozenSet[Tuple[str, str]]:
    """(service, domain) of every domain the manifest at `path` names, from its text alone. A
    malformed manifest names what it can and raises nothing: loading it reports its problems."""
    doc = Document(path, errors=[])
    return frozenset((e.service, e.domain) for e in consumed_entries(doc, parse_yaml(doc, text)))


def _consumed(doc: Document, entry: ConsumedEntry, catalog: Catalog) -> Optional[Consumed]:
    service, name, path = entry.service, entry.domain, entry.path
    if (service, name) not in catalog.domains:
        known = sorted(domain for owner, domain in catalog.domains if owner == service)
        hint = (
            f"known domains of {service}: {', '.join(known)}"
            if known
            else f"no domain spec of service '{service}' was loaded"
        )
        doc.error(path + ("domain",), f"unknown domain '{service}.{name}'", hint)
        return None
    domain = catalog.domains[(service, name)][0]
    by_name = {operation.name: operation for operation in domain.operations}
    listed = string_list(doc, path + ("operations",), entry.operations)
    if not listed:
        return Consumed(
            service, name, tuple(op.name for op in domain.operations if op.rest is not None)
        )
    for index, operation in listed:
        if operation not in by_name:
            doc.error(
                path + ("operations", index),
                f"unknown operation '{operation}' in {service}.{name}",
                did_you_mean(operation, list(by_name)),
            )
        elif by_name[operation].rest is None:
            doc.error(
                path + ("operations", index),
                f"operation '{operation}' has no rest transport and cannot be called over HTTP",
            )
    return Consumed(service, name, tuple(operation for _, operation in listed))
