"""`<service>/spec/manifest.yaml`: the other services' operations a service calls over HTTP.

    consumes:
      - CONSUMED                    {service, domain, operations: [<operation>...]}

An empty or missing operations list means every REST operation of that domain.
"""

from __future__ import annotations

from typing import Any, Optional

from specgen.checks import Shape, describe, did_you_mean, expect_string, string_list
from specgen.ir import Consumed, Manifest
from specgen.kinds.catalog import Catalog
from specgen.layout import SpecPath
from specgen.yaml_reader import Document, KeyPath

MANIFEST_FILE = Shape(optional=("consumes",))
CONSUMED = Shape(required=("service", "domain"), optional=("operations",))


def read_manifest(spec: SpecPath, doc: Document, root: Any, catalog: Catalog) -> None:
    body = MANIFEST_FILE.read(doc, (), root)
    if body is None:
        return
    items = body.get("consumes")
    if items is not None and not isinstance(items, list):
        doc.error(("consumes",), f"expected a list, got {describe(items)}")
        items = None
    consumed = []
    for index, item in enumerate(items or []):
        entry = _consumed(doc, ("consumes", index), item, catalog)
        if entry is not None:
            consumed.append(entry)
    catalog.manifests[spec.service] = Manifest(spec.service, doc.file, tuple(consumed))


def _consumed(doc: Document, path: KeyPath, value: Any, catalog: Catalog) -> Optional[Consumed]:
    body = CONSUMED.read(doc, path, value)
    if body is None:
        return None
    service = (
        expect_string(doc, path + ("service",), body["service"]) if "service" in body else None
    )
    name = expect_string(doc, path + ("domain",), body["domain"]) if "domain" in body else None
    if service is None or name is None:
        return None
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
    listed = string_list(doc, path + ("operations",), body.get("operations"))
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
