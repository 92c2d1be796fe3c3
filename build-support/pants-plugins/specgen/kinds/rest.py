"""An operation's HTTP side in a domain file: its `rest` route and its `params`.

rest: REST                      method, path ("" or "/..."), status, errors (4xx/5xx list),
                                if_match (optional or required: the If-Match header of a
                                PUT, PATCH or DELETE, passed to the controller),
                                idempotency (optional, required or off: the Idempotency-Key
                                header; by default optional for a POST or PATCH that publishes
                                events in a domain that declares storage)
params: [<identifier> or PARAM] a scalar or enum type; source "path" when `{name}` is in the path
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

from specgen.checks import (
    Shape,
    describe,
    did_you_mean,
    expect_bool,
    expect_string,
    is_identifier,
    optional_string,
    show,
)
from specgen.ir import MISSING, EnumType, Param, Rest, ScalarType, implied_default
from specgen.type_grammar import CONSTRAINTS, fits, read_constraints, read_type, type_text
from specgen.yaml_reader import Document, KeyPath

REST = Shape(required=("method",), optional=("path", "status", "errors", "if_match", "idempotency"))
IF_MATCH = ("optional", "required")
IDEMPOTENCY = ("optional", "required", "off")
# Methods that change a resource a client may have read first (RFC 9110's lost update).
_CONDITIONAL_METHODS = ("PUT", "PATCH", "DELETE")
PARAM = Shape(
    required=("name",),
    optional=("type", "source", "required", "default", "description") + CONSTRAINTS,
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DEFAULT_STATUS = {"POST": 201, "DELETE": 204}
_PATH_PARAM = re.compile(r"\{([^{}]*)\}")


def path_params(route: str) -> List[str]:
    """The `{name}`s of a route, in order."""
    return _PATH_PARAM.findall(route)


def route_shape(route: str) -> str:
    """The route with its parameter names blanked: two routes clash when their shapes match."""
    return _PATH_PARAM.sub("{}", route)


def read_rest(doc: Document, path: KeyPath, value: Any) -> Optional[Rest]:
    body = REST.read(doc, path, value)
    if body is None:
        return None
    method = expect_string(doc, path + ("method",), body["method"]) if "method" in body else None
    if method is None:
        return None
    if method.upper() not in METHODS:
        doc.error(
            path + ("method",),
            f"unknown method '{method}'",
            did_you_mean(method.upper(), METHODS),
        )
        return None
    method = method.upper()
    route = expect_string(doc, path + ("path",), body.get("path", "")) or ""
    if route and not route.startswith("/"):
        doc.error(
            path + ("path",),
            f"path '{route}' must be empty or start with '/'",
            f"write '/{route}'",
        )
    status = body.get("status", _DEFAULT_STATUS.get(method, 200))
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        doc.error(path + ("status",), f"status must be an HTTP status code, got {show(status)}")
        status = _DEFAULT_STATUS.get(method, 200)
    errors = _error_statuses(doc, path + ("errors",), body.get("errors"))
    return Rest(
        method,
        route,
        status,
        errors,
        _if_match(doc, path + ("if_match",), body, method),
        _idempotency(doc, path + ("idempotency",), body, method),
    )


def _idempotency(doc: Document, path: KeyPath, body: dict, method: str) -> Optional[str]:
    if method == "GET" and body.get("idempotency") not in (None, "off"):
        doc.error(path, "a GET is idempotent already", "remove idempotency")
        return None
    return _one_of(doc, path, body.get("idempotency"), IDEMPOTENCY)


def _if_match(doc: Document, path: KeyPath, body: dict, method: str) -> Optional[str]:
    if method not in _CONDITIONAL_METHODS and body.get("if_match") is not None:
        doc.error(
            path,
            f"a {method} takes no If-Match",
            f"if_match is for {', '.join(_CONDITIONAL_METHODS)}: the methods that change a resource",
        )
        return None
    return _one_of(doc, path, body.get("if_match"), IF_MATCH)


def _one_of(doc: Document, path: KeyPath, value: Any, choices: Tuple[str, ...]) -> Optional[str]:
    """`value` when it is one of `choices`; None when absent or not (an error)."""
    if value is None:
        return None
    if value not in choices:
        doc.error(path, f"{path[-1]} {show(value)} is not one of {', '.join(choices)}")
        return None
    return str(value)


def _error_statuses(doc: Document, path: KeyPath, value: Any) -> Tuple[int, ...]:
    """The 4xx/5xx statuses of `rest.errors`; null is none."""
    if value is None:
        return ()
    if not isinstance(value, list):
        doc.error(path, f"expected a list of error statuses, got {describe(value)}")
        return ()
    statuses: List[int] = []
    for index, status in enumerate(value):
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            doc.error(
                path + (index,),
                f"an error status is an HTTP status from 400 to 599, got {show(status)}",
            )
        elif status == 422:
            doc.error(
                path + (index,),
                "422 is declared by itself wherever there is input to validate",
                "remove 422",
            )
        elif status in statuses:
            doc.error(path + (index,), f"status {status} is listed twice", "remove one")
        else:
            statuses.append(status)
    return tuple(statuses)


def read_params(
    doc: Document, path: KeyPath, value: Any, rest: Optional[Rest]
) -> Tuple[Param, ...]:
    """The `params` of the operation at `path`; every `{name}` of its route must be among them."""
    in_path = path_params(rest.path) if rest else []
    items = value if isinstance(value, list) else []
    if value is not None and not isinstance(value, list):
        doc.error(path + ("params",), f"expected a list, got {describe(value)}")
    params: List[Param] = []
    for index, item in enumerate(items):
        param = _param(doc, path + ("params", index), item, in_path)
        if param is None:
            continue
        if any(other.name == param.name for other in params):
            doc.error(path + ("params", index), f"duplicate parameter '{param.name}'")
            continue
        params.append(param)
    declared = [param.name for param in params]
    for name in in_path:
        if name not in declared:
            doc.error(
                path + ("rest", "path"),
                f"path parameter '{name}' is not declared in params",
                f"add '- {name}' to params",
            )
    return tuple(params)


def _param(doc: Document, path: KeyPath, value: Any, in_path: List[str]) -> Optional[Param]:
    body = {"name": value} if isinstance(value, str) else PARAM.read(doc, path, value)
    if body is None:
        return None
    name = body.get("name")
    if not isinstance(name, str) or not is_identifier(name):
        if "name" in body:
            doc.error(path + ("name",), f"parameter name {show(name)} is not a Python identifier")
        return None
    type_ = read_type(doc, path + ("type",), body.get("type", "string"))
    if type_ is not None and type(type_) not in (ScalarType, EnumType):
        doc.error(
            path + ("type",),
            f"parameter type must be a scalar or an enum, not '{type_text(type_)}'",
        )
        type_ = None
    source = body.get("source", "path" if name in in_path else "query")
    if source not in ("path", "query"):
        doc.error(path + ("source",), f"source must be 'path' or 'query', got {show(source)}")
    elif source == "path" and name not in in_path:
        doc.error(
            path,
            f"path parameter '{name}' does not appear in the rest path",
            f"add '{{{name}}}' to rest.path",
        )
    explicitly_required = expect_bool(doc, path, body, "required", True)
    default = body.get("default", MISSING)
    if source == "path" and not explicitly_required:
        doc.error(path + ("required",), "a path parameter is always required")
    if type_ is None:
        return None
    if default is not MISSING and not fits(type_, default):
        doc.error(
            path + ("default",),
            f"default {show(default)} does not fit type '{type_text(type_)}'",
        )
    return Param(
        name=name,
        type=type_,
        source=source,
        required=source == "path"
        or (explicitly_required and default is MISSING and implied_default(type_) is MISSING),
        default=default,
        description=optional_string(doc, path, body, "description"),
        constraints=read_constraints(doc, path, body, type_),
    )
