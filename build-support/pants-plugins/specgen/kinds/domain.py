"""`<service>/spec/<domain>.yaml`: a domain's operations and how they are reached.

    domain: <the file name>         optional, must match
    config: CONFIG                  rest: {prefix, tags}, auth (`kinds.auth`), profiles
    operations:
      <identifier>: OPERATION       input, output (a schema or list[schema]), params and rest
                                    (`kinds.rest`), events (`kinds.operation_events`), auth
    storage: {<Model>: STORED}      the models the service keeps in tables (`kinds.storage`)

Names and routes unique across a service's domains are `cross_file_checks`.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Tuple

from specgen.checks import (
    Shape,
    did_you_mean,
    expect_mapping,
    expect_string,
    is_identifier,
    optional_string,
    show,
    string_list,
)
from specgen.ir import DEFAULT_ACCESS, PROFILES, Access, Domain, Operation, Output
from specgen.kinds.auth import check_access, read_access
from specgen.kinds.catalog import Catalog
from specgen.kinds.operation_events import check_events, read_operation_events
from specgen.kinds.rest import read_params, read_rest
from specgen.kinds.storage import read_storage
from specgen.layout import SpecPath
from specgen.yaml_reader import Document, KeyPath

DOMAIN_FILE = Shape(
    required=("operations",), optional=("domain", "description", "config", "storage")
)
CONFIG = Shape(optional=("rest", "auth", "profiles"))
REST_CONFIG = Shape(optional=("prefix", "tags"))
OPERATION = Shape(optional=("input", "output", "params", "rest", "events", "description", "auth"))
_LIST_OUTPUT = re.compile(r"^\s*list\[\s*([^\[\]\s]+)\s*\]\s*$")


def read_domain(spec: SpecPath, doc: Document, root: Any, catalog: Catalog) -> None:
    body = DOMAIN_FILE.read(doc, (), root)
    if body is None:
        return
    if "domain" in body and body["domain"] != spec.domain:
        doc.error(
            ("domain",),
            f"domain {show(body['domain'])} does not match the file name '{spec.domain}'",
            f"write domain: {spec.domain}",
        )
    optional_string(doc, (), body, "description")  # for readers of the spec only
    config = CONFIG.read(doc, ("config",), body.get("config"), null_is_empty=True) or {}
    prefix, tags = _rest_config(doc, config.get("rest"), spec.domain)
    default_access = DEFAULT_ACCESS
    if "auth" in config:
        default_access = read_access(doc, ("config", "auth"), config["auth"], owner_allowed=False)
    profiles = PROFILES
    if "profiles" in config:
        profiles = _profiles(doc, ("config", "profiles"), config["profiles"])
    operations = []
    for name, value in (
        expect_mapping(doc, ("operations",), body.get("operations"), True) or {}
    ).items():
        operation = _operation(doc, ("operations", name), name, value, default_access, catalog)
        if operation is not None:
            operations.append(operation)
    key = (spec.service, spec.domain)
    if key in catalog.domains:
        doc.error(
            (),
            f"domain '{spec.service}.{spec.domain}' is already loaded from {catalog.domains[key][1].file}",
        )
        return
    storage = read_storage(doc, body.get("storage"), catalog)
    catalog.domains[key] = (
        Domain(
            spec.service, spec.domain, doc.file, prefix, tags, tuple(operations), profiles, storage
        ),
        doc,
    )


def _rest_config(doc: Document, value: Any, domain: str) -> Tuple[str, Tuple[str, ...]]:
    """The REST prefix and tags: "/<domain>" and [<domain>] unless given."""
    path = ("config", "rest")
    rest = REST_CONFIG.read(doc, path, value, null_is_empty=True) or {}
    prefix = f"/{domain}"
    if "prefix" in rest:
        given = expect_string(doc, path + ("prefix",), rest["prefix"])
        if given is not None and given and not given.startswith("/"):
            doc.error(
                path + ("prefix",), f"prefix '{given}' must start with '/'", f"write '/{given}'"
            )
        prefix = given if given is not None else prefix
    tags: Tuple[str, ...] = (domain,)
    if "tags" in rest:
        tags = tuple(tag for _, tag in string_list(doc, path + ("tags",), rest["tags"]))
    return prefix, tags


def _profiles(doc: Document, path: KeyPath, value: Any) -> Tuple[str, ...]:
    """The profiles whose app serves the domain: a non-empty subset of PROFILES."""
    profiles = []
    for index, profile in string_list(doc, path, value):
        if profile not in PROFILES:
            doc.error(
                path + (index,),
                f"unknown profile '{profile}'",
                did_you_mean(profile, PROFILES) or f"profiles are {', '.join(PROFILES)}",
            )
        elif profile not in profiles:
            profiles.append(profile)
    if isinstance(value, list) and not value:
        doc.error(path, "a domain served in no profile is never served", "remove the key")
    return tuple(profiles) or PROFILES


def _operation(
    doc: Document, path: KeyPath, name: str, value: Any, default_access: Access, catalog: Catalog
) -> Optional[Operation]:
    if not is_identifier(name):
        doc.error(path, f"operation name '{name}' is not a Python identifier")
        return None
    body = OPERATION.read(doc, path, value)
    if body is None:
        return None
    rest = read_rest(doc, path + ("rest",), body["rest"]) if "rest" in body else None
    operation = Operation(
        name=name,
        input=(
            catalog.schema_name(doc, path + ("input",), body["input"]) if "input" in body else None
        ),
        output=_output(doc, path + ("output",), body.get("output"), catalog),
        params=read_params(doc, path, body.get("params"), rest),
        rest=rest,
        events=read_operation_events(doc, path + ("events",), body.get("events"), catalog),
        description=optional_string(doc, path, body, "description"),
        access=(
            read_access(doc, path + ("auth",), body["auth"], owner_allowed=True)
            if "auth" in body
            else default_access
        ),
    )
    check_access(doc, path, operation, "auth" in body)
    events = body.get("events")
    declares_transport = "rest" in body or (isinstance(events, dict) and "subscribe" in events)
    _check_transport(doc, path, operation, declares_transport)
    check_events(doc, path, operation, catalog)
    return operation


def _output(doc: Document, path: KeyPath, value: Any, catalog: Catalog) -> Output:
    if value is None:
        return Output(None)
    text = expect_string(doc, path, value)
    if text is None:
        return Output(None)
    as_list = _LIST_OUTPUT.match(text)
    name = as_list.group(1) if as_list else text
    catalog.schema_name(doc, path, name)
    return Output(name, is_list=bool(as_list))


def _check_transport(
    doc: Document, path: KeyPath, operation: Operation, declares_transport: bool
) -> None:
    if not declares_transport:
        doc.error(
            path,
            f"operation '{operation.name}' has no transport",
            "add 'rest' or 'events.subscribe'",
        )
    rest = operation.rest
    if rest is not None and rest.method in ("GET", "DELETE") and operation.input is not None:
        doc.error(
            path + ("input",),
            f"a {rest.method} operation cannot have an input body",
            "pass values as params",
        )
    if rest is not None and rest.status == 204 and operation.output.schema is not None:
        doc.error(
            path + ("rest", "status"),
            "status 204 has no body but the operation has an output",
            "remove output or change the status",
        )
