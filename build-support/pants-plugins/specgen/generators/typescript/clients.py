"""generated/<service>/clients.ts: a typed fetch client per domain the service's manifest consumes.

Each method takes the operation's path and query parameters as one object named as in the spec,
then its body; it resolves to the output and rejects with an `ApiError` whose `status` is one the
operation may answer about the call itself (`rest.errors`, 401/403 from its auth, 422 when it
validates input), or an `UnexpectedResponseError` for anything else, such as a service that is
unavailable (see http.ts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import List, Tuple

from specgen.generators.naming import camel
from specgen.generators.openapi import (
    PAYLOAD_TOO_LARGE,
    UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    error_statuses,
    route_path,
)
from specgen.generators.operations import idempotency
from specgen.generators.render import render
from specgen.generators.typescript.types import ts_type
from specgen.ir import Domain, Manifest, Operation, SpecSet

# Answers about the transport or the service's state, not the call: a client this generator makes
# never sends a body too large or not JSON, and an unavailable service is not the caller's to fix.
_UNEXPECTED = (PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNAVAILABLE)


@dataclass(frozen=True)
class MethodView:
    operation: Operation
    name: str  # lowerCamel: createUser
    arguments: str  # "params: { user_id: number }, body: UserUpdate"
    path: str  # a TypeScript string or template literal
    query: str  # TypeScript object literal of the query parameters, "" for none
    returns: str
    errors: Tuple[int, ...]
    idempotent: bool  # sends an Idempotency-Key


@dataclass(frozen=True)
class ClientView:
    name: str
    service: str
    domain: str
    prefix: str
    methods: Tuple[MethodView, ...]


def lower_camel(name: str) -> str:
    text = camel(name)
    return text[:1].lower() + text[1:]


def render_clients(spec: SpecSet, manifest: Manifest) -> str:
    clients = []
    models: set = set()
    for consumed in manifest.consumes:
        domain = spec.domain(consumed.service, consumed.domain)
        by_name = {op.name: op for op in domain.operations}
        methods = tuple(
            _method_view(spec, domain, op)
            for op in (by_name[name] for name in consumed.operations)
            if op.rest is not None  # an operation without a REST binding has no URL to call
        )
        for method in methods:
            models.update(n for n in (method.operation.input, method.operation.output.schema) if n)
        clients.append(
            ClientView(
                camel(consumed.service) + camel(consumed.domain) + "Client",
                consumed.service,
                consumed.domain,
                domain.prefix,
                methods,
            )
        )
    return render(
        "typescript/clients.ts.j2",
        manifest.file,
        comment="//",
        clients=clients,
        models=sorted(models),
        keyed=any(m.idempotent for client in clients for m in client.methods),
    )


def _method_view(spec: SpecSet, domain: Domain, op: Operation) -> MethodView:
    assert op.rest is not None
    path = route_path(domain, op.rest)
    arguments: List[str] = []
    if op.params:
        members = "; ".join(
            f"{p.name}{'' if p.required else '?'}: {ts_type(p.type)}" for p in op.params
        )
        all_optional = not any(p.required for p in op.params)
        arguments.append(f"params: {{ {members} }}" + (" = {}" if all_optional else ""))
    if op.input:
        arguments.append(f"body: {op.input}")
    if op.rest.if_match:  # the version the change applies to, sent as If-Match
        arguments.append(
            "ifMatch: number" + ("" if op.rest.if_match == "required" else " | null = null")
        )
    keyed = idempotency(domain, op)
    if keyed:  # one per logical call, which every repeat sends again
        arguments.append("idempotencyKey: string = newIdempotencyKey()")
    errors = [
        status for status in error_statuses(spec, domain, op, op.rest) if status not in _UNEXPECTED
    ]
    query = [p.name for p in op.params if p.source == "query"]
    output = op.output
    returns = "void" if output.schema is None else output.schema + ("[]" if output.is_list else "")
    return MethodView(
        operation=op,
        name=lower_camel(op.name),
        arguments=", ".join(arguments),
        path=_path_literal(path),
        query="{ " + ", ".join(f"{name}: params.{name}" for name in query) + " }" if query else "",
        returns=returns,
        errors=tuple(errors),
        idempotent=keyed is not None,
    )


def _path_literal(path: str) -> str:
    if not re.search(r"\{\w+\}", path):
        return json.dumps(path)
    interpolated = re.sub(
        r"\{(\w+)\}", lambda m: "${encodeURIComponent(String(params." + m.group(1) + "))}", path
    )
    return "`" + interpolated + "`"
