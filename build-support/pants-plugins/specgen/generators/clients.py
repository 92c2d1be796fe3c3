"""generated/<service>/clients.py: a typed HTTP client per domain the service's manifest consumes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple

from specgen.generators.naming import camel
from specgen.generators.openapi import route_path
from specgen.generators.operations import (
    by_requiredness,
    idempotency,
    output_annotation,
    param_annotation,
    param_default,
    param_imports,
    uses_literal,
)
from specgen.generators.render import render
from specgen.ir import Domain, Manifest, Operation, SpecSet


@dataclass(frozen=True)
class MethodView:
    operation: Operation
    signature: str
    http_method: str
    path: str  # Python source: a string or f-string interpolating the path parameters
    query: str  # Python source of the params dict, "" for none
    returns: str
    if_match: bool  # sends the If-Match header, the version the change applies to
    idempotent: bool  # sends an Idempotency-Key, and so may be retried


@dataclass(frozen=True)
class ClientView:
    name: str
    service: str
    domain: str
    methods: Tuple[MethodView, ...]


def render_clients(spec: SpecSet, manifest: Manifest) -> str:
    clients = []
    operations: List[Operation] = []
    for consumed in manifest.consumes:
        domain = spec.domain(consumed.service, consumed.domain)
        by_name = {op.name: op for op in domain.operations}
        # Operations without a REST binding have no URL to call.
        methods = tuple(
            _method_view(domain, op)
            for op in (by_name[name] for name in consumed.operations)
            if op.rest is not None
        )
        operations += [method.operation for method in methods]
        clients.append(
            ClientView(
                camel(consumed.service) + camel(consumed.domain) + "Client",
                consumed.service,
                consumed.domain,
                methods,
            )
        )
    models = {op.input for op in operations} | {op.output.schema for op in operations}
    return render(
        "clients.py.j2",
        manifest.file,
        clients=clients,
        models=sorted(name for name in models if name),
        uses_literal=uses_literal(tuple(operations)),
        imports=param_imports(tuple(operations)),
        uses_type_adapter=any(op.output.is_list for op in operations),
        uses_if_match=any(op.rest and op.rest.if_match for op in operations),
        uses_keys=any(method.idempotent for client in clients for method in client.methods),
    )


def _method_view(domain: Domain, op: Operation) -> MethodView:
    assert op.rest is not None
    path = route_path(domain, op.rest)
    params = by_requiredness(op.params)
    signature = [f"body: {op.input}"] if op.input else []
    for param in params:
        default = param_default(param)
        signature.append(
            f"{param.name}: {param_annotation(param)}" + (f" = {default}" if default else "")
        )
    keyword_only = []
    if op.rest.if_match == "required":
        keyword_only.append("if_match: int")
    elif op.rest.if_match:
        keyword_only.append("if_match: int | None = None")
    keyed = idempotency(domain, op)
    if keyed:  # None: a new key for this call, which every retry of it sends again
        keyword_only.append("idempotency_key: str | None = None")
    if keyword_only:
        signature += ["*", *keyword_only]
    query = [p.name for p in params if p.source == "query"]
    return MethodView(
        operation=op,
        signature=", ".join(signature),
        http_method=op.rest.method,
        path=("f" if re.search(r"\{\w+\}", path) else "") + repr(path),
        query="{" + ", ".join(f"{name!r}: {name}" for name in query) + "}" if query else "",
        returns=output_annotation(op),
        if_match=op.rest.if_match is not None,
        idempotent=keyed is not None,
    )
