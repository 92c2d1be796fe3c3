"""generated/<service>/<domain>.py: the controller protocol, the FastAPI router, the subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from specgen.generators.naming import camel, upper_snake
from specgen.generators.openapi import (
    UNPROCESSABLE,
    error_statuses,
    openapi_fragment,
    status_phrase,
)
from specgen.generators.operations import (
    admin_only_fields,
    by_requiredness,
    etag_field,
    idempotency,
    output_annotation,
    param_annotation,
    param_imports,
    param_default,
    uses_literal,
)
from specgen.generators.render import render
from specgen.ir import Domain, Operation, Param, SpecSet


@dataclass(frozen=True)
class OperationView:
    operation: Operation
    signature: str  # the protocol method's parameters after self
    call: str  # keyword arguments passing them on
    returns: str
    success_channel: Optional[str]
    error_channel: Optional[str]
    subscribe_channel: Optional[str]
    subscribe_message: Optional[str]
    subscribe_call: str  # call arguments taken from the triggering message


@dataclass(frozen=True)
class RouteView:
    view: OperationView
    method: str
    path: str
    status: int
    response_model: Optional[str]
    arguments: List[str]  # the route function's parameters, caller and unit of work included
    # rest.errors as FastAPI's `responses=`, so that its own OpenAPI names them too.
    responses: Dict[int, Dict[str, str]]
    guard: str  # the keyword arguments of Authenticator.guard for the operation's `auth`
    # False for a GET that publishes nothing: HTTP's safe method changes nothing, so its
    # transaction ends in the session's rollback at close rather than a commit before the answer.
    commits: bool
    admin_only: List[str]  # input fields that only an admin may set
    etag: Optional[str]  # the output's version field, answered as the ETag header
    idempotency: Optional[str]  # "optional" or "required": takes an Idempotency-Key header
    request: str  # Python source of the parameters and body a key's request hash covers


def render_domain(spec: SpecSet, domain: Domain) -> str:
    views = [_operation_view(spec, op) for op in domain.operations]
    routes = [_route_view(spec, domain, view) for view in views if view.operation.rest]
    publishing = [v.operation.name for v in views if v.success_channel or v.error_channel]
    channels = {
        c for v in views for c in (v.success_channel, v.error_channel, v.subscribe_channel) if c
    }
    models = {v.subscribe_message for v in views} | {
        name for v in views for name in (v.operation.input, v.operation.output.schema)
    }
    return render(
        "domain.py.j2",
        domain.file,
        domain=domain,
        controller=camel(domain.name) + "Controller",
        views=views,
        routes=routes,
        publishing=publishing,
        subscribing=[v for v in views if v.subscribe_channel],
        channels=sorted(channels),
        models=sorted(name for name in models if name),
        uses_literal=uses_literal(domain.operations),
        imports=param_imports(domain.operations),
        fastapi_names=_fastapi_names(routes),
        preconditions=_precondition_names(routes),
        takes_keys=any(route.idempotency for route in routes),
        checks_admin_only=any(route.admin_only for route in routes),
        openapi=openapi_fragment(spec, domain),
    )


def _operation_view(spec: SpecSet, op: Operation) -> OperationView:
    params = by_requiredness(op.params)
    signature = [f"{p.name}: {param_annotation(p)}" for p in params]
    call = [f"{p.name}={p.name}" for p in params]
    if op.input:
        signature.insert(0, f"body: {op.input}")
        call.insert(0, "body=body")
    subscribed = spec.event(op.events.subscribe) if op.events.subscribe else None
    subscribe_call = [f"{p.name}=message.{p.name}" for p in params]
    if op.input:
        subscribe_call.insert(0, "body=message")
    if op.rest:
        # The verified caller; None where nobody signed in: a public route, or an event.
        anonymous = op.access.public or subscribed is not None
        signature.append(f"principal: {'Principal | None' if anonymous else 'Principal'}")
        call.append("principal=principal_")
        if subscribed:
            subscribe_call.append("principal=None")
    if op.rest and op.rest.if_match:
        signature.append("if_match: IfMatch | None")
        call.append("if_match=if_match")
        if subscribed:
            subscribe_call.append("if_match=None")
    return OperationView(
        operation=op,
        signature=", ".join(signature),
        call=", ".join(call),
        returns=output_annotation(op),
        success_channel=_channel(op.events.publish_on_success),
        error_channel=_channel(op.events.publish_on_error),
        subscribe_channel=_channel(op.events.subscribe),
        subscribe_message=subscribed.message if subscribed else None,
        subscribe_call=", ".join(subscribe_call),
    )


def _route_view(spec: SpecSet, domain: Domain, view: OperationView) -> RouteView:
    op = view.operation
    assert op.rest is not None
    principal = "Principal | None" if op.access.public else "Principal"
    required = [p for p in by_requiredness(op.params) if param_default(p) is None]
    defaulted = [p for p in by_requiredness(op.params) if param_default(p) is not None]
    arguments = [_route_argument(p) for p in required]
    if op.input:
        arguments.append(f"body: {op.input}")
    # Two dependencies, the guard first: FastAPI resolves each on every request, so the controller
    # is made in the route from the unit of work rather than being a third.
    arguments.append(f"principal_: Annotated[{principal}, Depends(guard_{op.name})]")
    arguments.append("unit_: Annotated[UnitT, Depends(transaction)]")
    arguments += [f"{_route_argument(p)} = {param_default(p)}" for p in defaulted]
    if op.rest.if_match:
        arguments.append('if_match_: Annotated[str | None, Header(alias="If-Match")] = None')
    etag = etag_field(spec, domain, op)
    if etag:
        arguments.insert(0, "response_: Response")
    keyed = idempotency(domain, op)
    if keyed:
        arguments.append(
            'idempotency_key_: Annotated[str | None, Header(alias="Idempotency-Key")] = None'
        )
    request = [f"{p.name!r}: {p.name}" for p in op.params]
    if op.input:
        request.insert(0, "'body': body")
    return RouteView(
        view=view,
        method=op.rest.method.lower(),
        path=op.rest.path,
        status=op.rest.status,
        response_model=view.returns if op.output.schema else None,
        arguments=arguments,
        # FastAPI documents its own 422.
        responses={
            status: {"description": status_phrase(status)}
            for status in error_statuses(spec, domain, op, op.rest)
            if status != UNPROCESSABLE
        },
        guard=_guard_arguments(op),
        commits=op.rest.method != "GET" or bool(view.success_channel or view.error_channel),
        admin_only=admin_only_fields(spec, op),
        etag=etag,
        idempotency=keyed,
        request="{" + ", ".join(request) + "}",
    )


def _guard_arguments(op: Operation) -> str:
    access = op.access
    if access.public:
        return "public=True"
    arguments = [f"roles={access.roles!r}"] if access.roles else []
    if access.owner:
        arguments.append(f"owner={access.owner!r}")
    return ", ".join(arguments)


def _route_argument(param: Param) -> str:
    """`name: Annotated[T, Query(...)]`; plain `name: T` for a path parameter with no metadata."""
    metadata = [f"{name}={value!r}" for name, value in param.constraints]
    if param.description:
        metadata.append(f"description={param.description!r}")
    annotation = param_annotation(param)
    if param.source == "path" and not metadata:
        return f"{param.name}: {annotation}"
    return f"{param.name}: Annotated[{annotation}, {_source_class(param)}({', '.join(metadata)})]"


def _source_class(param: Param) -> str:
    return "Path" if param.source == "path" else "Query"


def _fastapi_names(routes: List[RouteView]) -> List[str]:
    names = {"APIRouter"}
    if routes:
        names.add("Depends")
    for route in routes:
        if route.response_model is None or route.etag:
            names.add("Response")
        if route.view.operation.rest and route.view.operation.rest.if_match or route.idempotency:
            names.add("Header")
        if route.idempotency:
            names.add("Response")
        names.update(
            _source_class(p)
            for p in route.view.operation.params
            if "Annotated[" in _route_argument(p)
        )
    return sorted(names)


def _precondition_names(routes: List[RouteView]) -> List[str]:
    """What the generated module imports from servicekit.preconditions."""
    names = set()
    if any(route.etag for route in routes):
        names.add("entity_tag")
    if any(route.view.operation.rest and route.view.operation.rest.if_match for route in routes):
        names |= {"IfMatch", "parse_if_match"}
    return sorted(names)


def _channel(event: Optional[str]) -> Optional[str]:
    return upper_snake(event) if event else None
