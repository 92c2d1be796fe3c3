"""The OpenAPI 3.1 fragment of a domain: exactly what its generated router serves."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Dict, List

from specgen.generators.jsonschema import (
    COMPONENTS,
    component_schemas,
    constrained,
    described,
    nullable,
)
from specgen.generators.operations import admin_only_fields, etag_field, idempotency
from specgen.ir import MISSING, Domain, Operation, Param, Rest, SpecSet

OPENAPI_VERSION = "3.1.0"

# The one error shape of every service (servicekit.errors): `detail` always, `errors` for a 422.
_ERROR_SCHEMAS: Dict[str, Dict[str, Any]] = {
    "Error": {
        "title": "Error",
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "string"},
            "errors": {
                "title": "Errors",
                "type": "array",
                "items": {"$ref": COMPONENTS + "ValidationError"},
            },
        },
        "required": ["detail"],
    },
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
        },
        "required": ["loc", "msg", "type"],
    },
}

# What any operation may answer besides its own rest.errors (servicekit.api.harden): a body over
# the service's limit or not JSON, a request that does not validate, a dependency that is down;
# and from its auth (servicekit.auth): no or a bad token, a caller without the role.
PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNPROCESSABLE, UNAVAILABLE = 413, 415, 422, 503
UNAUTHORIZED, FORBIDDEN = 401, 403
# And from an If-Match header (servicekit.preconditions): malformed, stale, missing when required.
BAD_REQUEST, PRECONDITION_FAILED, PRECONDITION_REQUIRED = 400, 412, 428
# And from an Idempotency-Key header (servicekit.idempotency): the first request still running.
CONFLICT = 409

# The bearer token scheme every non-public operation requires (the Authorize button of /docs).
BEARER_SCHEME = "bearerAuth"
_SECURITY_SCHEMES = {
    BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}


def route_path(domain: Domain, rest: Rest) -> str:
    return domain.prefix + rest.path


def openapi_fragment(spec: SpecSet, domain: Domain) -> Dict[str, Any]:
    paths: Dict[str, Dict[str, Any]] = {}
    referenced: List[str] = []
    for operation in domain.operations:
        if operation.rest is None:
            continue
        item = paths.setdefault(route_path(domain, operation.rest), {})
        item[operation.rest.method.lower()] = _operation(spec, domain, operation, operation.rest)
        referenced += [name for name in (operation.input, operation.output.schema) if name]
    schemas = component_schemas(spec, referenced)
    components: Dict[str, Any] = {"schemas": {}}
    if paths:
        schemas.update(_ERROR_SCHEMAS)
        components["securitySchemes"] = _SECURITY_SCHEMES
    components["schemas"] = {name: schemas[name] for name in sorted(schemas)}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"{domain.service}.{domain.name}", "version": "0.0.0"},
        "paths": paths,
        "components": components,
    }


def error_statuses(spec: SpecSet, domain: Domain, operation: Operation, rest: Rest) -> List[int]:
    """Every failure status of the operation: its rest.errors and those any service may answer."""
    # A bad token gets 401 even on a public route.
    errors = set(rest.errors) | {UNAUTHORIZED, UNAVAILABLE}
    access = operation.access
    if (not access.public and (access.roles or access.owner)) or admin_only_fields(spec, operation):
        errors.add(FORBIDDEN)
    if operation.input:
        errors |= {PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE}
    if _validates(operation):
        errors.add(UNPROCESSABLE)
    if rest.if_match:
        errors |= {BAD_REQUEST, PRECONDITION_FAILED}
    if rest.if_match == "required":
        errors.add(PRECONDITION_REQUIRED)
    if idempotency(domain, operation):  # a bad key; a key still in use; a key reused
        errors |= {BAD_REQUEST, CONFLICT, UNPROCESSABLE}
    return sorted(errors)


def _validates(operation: Operation) -> bool:
    """FastAPI answers 422 whenever there is anything to validate."""
    return bool(operation.params) or operation.input is not None


def _operation(spec: SpecSet, domain: Domain, operation: Operation, rest: Rest) -> Dict[str, Any]:
    result: Dict[str, Any] = {"tags": list(domain.tags), "operationId": operation.name}
    if operation.description:
        result["description"] = operation.description
    bearer: Dict[str, List[str]] = {BEARER_SCHEME: []}
    # A public operation: without a token, or with one (which must then be valid).
    result["security"] = [{}, bearer] if operation.access.public else [bearer]
    parameters = [_parameter(param) for param in operation.params]
    if rest.if_match:
        parameters.append(_IF_MATCH_PARAMETER | {"required": rest.if_match == "required"})
    keyed = idempotency(domain, operation)
    if keyed:
        parameters.append(_IDEMPOTENCY_KEY_PARAMETER | {"required": keyed == "required"})
    if parameters:
        result["parameters"] = parameters
    if operation.input:
        result["requestBody"] = {
            "required": True,
            "content": _json({"$ref": COMPONENTS + operation.input}),
        }
    success: Dict[str, Any] = {"description": "Successful Response"}
    if operation.output.schema:
        body: Dict[str, Any] = {"$ref": COMPONENTS + operation.output.schema}
        success["content"] = _json(
            {"type": "array", "items": body} if operation.output.is_list else body
        )
    if etag_field(spec, domain, operation):
        success["headers"] = {"ETag": _ETAG_HEADER}
    result["responses"] = {str(rest.status): success}
    for status in error_statuses(spec, domain, operation, rest):
        result["responses"][str(status)] = {
            "description": status_phrase(status),
            "content": _json({"$ref": COMPONENTS + "Error"}),
        }
    return result


_IF_MATCH_PARAMETER: Dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "description": "The ETag of the version the change applies to; 412 when it has changed.",
    "schema": {"type": "string"},
}
_IDEMPOTENCY_KEY_PARAMETER: Dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "A key per logical request (a UUID): a repeat with it gets the first answer.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_ETAG_HEADER: Dict[str, Any] = {
    "description": "The version of the answer, for If-Match.",
    "schema": {"type": "string"},
}


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a code HTTP does not name, such as 499
        return "Error"


def _parameter(param: Param) -> Dict[str, Any]:
    schema = constrained(param.type, param.constraints)
    if not param.required and param.default is MISSING:
        schema = nullable(schema)
    result: Dict[str, Any] = {"name": param.name, "in": param.source, "required": param.required}
    if param.description:
        result["description"] = param.description
    result["schema"] = described(schema, None, param.default)
    return result


def _json(schema: Dict[str, Any]) -> Dict[str, Any]:
    return {"application/json": {"schema": schema}}
