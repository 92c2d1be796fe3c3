"""Operation signatures shared by the domain router, its controller protocol and the clients."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from specgen.generators.pytypes import annotation, literal_enum, needed_imports, value_literal
from specgen.ir import MISSING, Domain, EnumType, Operation, Param, SpecSet, walk


def param_annotation(param: Param) -> str:
    text = annotation(param.type, literal_enum)
    if not param.required and param.default is MISSING:
        text += " | None"
    return text


def param_default(param: Param) -> Optional[str]:
    """Python source of the parameter's default, None when it must be given."""
    if param.required:
        return None
    return "None" if param.default is MISSING else value_literal(param.default, param.type)


def by_requiredness(params: Tuple[Param, ...]) -> List[Param]:
    """Required parameters first: Python wants defaulted ones last."""
    return sorted(params, key=lambda param: param_default(param) is not None)


def output_annotation(operation: Operation) -> str:
    schema = operation.output.schema
    if schema is None:
        return "None"
    return f"list[{schema}]" if operation.output.is_list else schema


def uses_literal(operations: Tuple[Operation, ...]) -> bool:
    return any(
        type(param.type) is EnumType for operation in operations for param in operation.params
    )


def param_imports(operations: Tuple[Operation, ...]) -> Dict[str, bool]:
    """The standard-library imports the parameters' annotations need."""
    return needed_imports(
        t for operation in operations for param in operation.params for t in walk(param.type)
    )


def admin_only_fields(spec: SpecSet, operation: Operation) -> List[str]:
    """The input's fields that only an admin may set, in spec order."""
    if operation.input is None:
        return []
    return [field.name for field in spec.schema(operation.input).fields if field.admin_only]


def etag_field(spec: SpecSet, domain: Domain, operation: Operation) -> Optional[str]:
    """The field a route answers as its ETag: the version of a model the domain stores with
    `version`, when the operation's single output carries it."""
    if operation.output.schema is None or operation.output.is_list:
        return None
    schema = spec.schema(operation.output.schema)
    version = next((s.version for s in domain.storage if s.model == schema.model), None)
    if version and any(field.name == version for field in schema.fields):
        return version
    return None


# Methods whose repeat is not the same as one request (RFC 9110): retried safely only with a key.
_NOT_IDEMPOTENT = ("POST", "PATCH")


def idempotency(domain: Domain, operation: Operation) -> Optional[str]:
    """Whether a route takes an Idempotency-Key: "optional", "required" or None. By default a
    POST or PATCH that publishes events and needs a signed-in caller takes one in a domain that
    stores data, whose service has a database to keep keys in (its unit of work's `idempotency`)."""
    rest = operation.rest
    if rest is None:
        return None
    if rest.idempotency is not None:
        return None if rest.idempotency == "off" else rest.idempotency
    events = operation.events
    publishes = events.publish_on_success or events.publish_on_error
    # Not a public one by default: anonymous callers would share one scope of keys.
    signed_in = not operation.access.public
    if rest.method in _NOT_IDEMPOTENT and publishes and domain.storage and signed_in:
        return "optional"
    return None
