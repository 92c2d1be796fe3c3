"""Load spec files into the typed IR of `ir.py`, validating everything strictly.

`load` reads every given file, collects all errors (with file, line and key path) and raises
`SpecErrors` if there is any; bad input never surfaces as a Python traceback. The rooms it uses:
`layout` (which file is what), `yaml_reader` (values with lines), `checks` (structural checks)
and `type_grammar` (type text, defaults, constraints).
Runs on Python 3.9 (inside Pants) and 3.11.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from specgen.checks import (
    check_keys,
    describe,
    did_you_mean,
    expect_bool,
    expect_mapping,
    expect_string,
    is_identifier,
    optional_string,
    show,
    string_list,
)
from specgen.errors import SpecError, SpecErrors
from specgen.ir import (
    DEFAULT_ACCESS,
    MISSING,
    PROFILES,
    Access,
    Consumed,
    Domain,
    EnumType,
    Event,
    Field,
    Manifest,
    Model,
    ModelType,
    Operation,
    OperationEvents,
    OptionalType,
    Output,
    Param,
    Retention,
    Rest,
    ScalarType,
    Schema,
    SpecSet,
    implied_default,
    model_names,
)
from specgen.layout import (
    DOMAIN,
    EVENTS,
    MANIFEST,
    MODELS,
    SpecPath,
    classify,
)
from specgen.type_grammar import (
    CONSTRAINTS,
    fits,
    read_constraints,
    read_type,
    type_text,
)
from specgen.yaml_reader import Document, KeyPath, gc_paused, parse_yaml

_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
_PATH_PARAM = re.compile(r"\{([^{}]*)\}")
_LIST_OUTPUT = re.compile(r"^\s*list\[\s*([^\[\]\s]+)\s*\]\s*$")

_MODEL_KEYS = ("fields", "variants", "description")
_FIELD_KEYS = (
    "type",
    "readonly",
    "default",
    "optional",
    "description",
    "admin_only",
) + CONSTRAINTS
_VARIANT_KEYS = ("exclude", "optional")
_EVENT_KEYS = ("message", "publish", "subscribe", "description", "retention")
_RETENTION_KEYS = ("max_length", "max_age")
_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DOMAIN_KEYS = ("domain", "description", "config", "operations")
_OPERATION_KEYS = ("input", "output", "params", "rest", "events", "description", "auth")
_DOMAIN_CONFIG_KEYS = ("rest", "auth", "profiles")
_AUTH_KEYS = ("roles", "owner")
_PUBLIC, _SIGNED_IN = "public", "user"  # the auth words that are not roles
_PARAM_KEYS = ("name", "type", "source", "required", "default", "description") + CONSTRAINTS
_REST_KEYS = ("method", "path", "status", "errors")
_OPERATION_EVENT_KEYS = ("subscribe", "publish_on_success", "publish_on_error")
_CONSUMES_KEYS = ("service", "domain", "operations")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DEFAULT_STATUS = {"POST": 201, "DELETE": 204}
_VARIANTS_WITHOUT_READONLY = ("Create", "Update")  # readonly fields are server-owned


def _retention(doc: Document, path: KeyPath, value: Any) -> Optional[Retention]:
    """`{max_length: <positive int>, max_age: <n>s|m|h|d}`, either or both; None when absent."""
    if value is None:
        return None
    body = expect_mapping(doc, path, value)
    if body is None:
        return None
    check_keys(doc, path, body, _RETENTION_KEYS)
    max_length = body.get("max_length")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1
    ):
        doc.error(
            path + ("max_length",), f"expected a positive integer, got {describe(max_length)}"
        )
        max_length = None
    max_age = body.get("max_age")
    match = _DURATION.match(max_age) if isinstance(max_age, str) else None
    if max_age is not None and match is None:
        doc.error(
            path + ("max_age",),
            f"expected a duration such as 90s, 30m, 12h or 7d, got {describe(max_age)}",
        )
    if not body.keys() & set(_RETENTION_KEYS):
        doc.error(path, "expected max_length, max_age or both")
    return Retention(
        max_length=max_length,
        max_age_seconds=int(match[1]) * _DURATION_SECONDS[match[2]] if match else None,
    )


@dataclass(frozen=True)
class _FieldSite:
    """Where a model field was declared, to resolve its model references later."""

    doc: Document
    type_path: KeyPath
    model: str
    field: Field


# ---------------------------------------------------------------------------- the loader


class _Loader:
    def __init__(self) -> None:
        self.errors: List[SpecError] = []
        self.warnings: List[SpecError] = []
        self.models: List[Model] = []
        self.model_files: Dict[str, str] = {}
        self.schemas: Dict[str, Schema] = {}
        self.field_sites: List[_FieldSite] = []
        self.events: Dict[str, Event] = {}
        self.event_files: Dict[str, str] = {}
        self.domains: Dict[Tuple[str, str], Tuple[Domain, Document]] = {}
        self.manifests: Dict[str, Manifest] = {}

    def load(self, files: Mapping[str, str]) -> SpecSet:
        documents: Dict[str, List[Tuple[SpecPath, Document, Any]]] = {
            MODELS: [],
            EVENTS: [],
            DOMAIN: [],
            MANIFEST: [],
        }
        for path in sorted(files):
            try:
                spec = classify(path)
            except SpecErrors as problem:
                self.errors.extend(problem.errors)
                continue
            doc = Document(path, self.errors, self.warnings)
            root = parse_yaml(doc, files[path])
            if root is not None:
                documents[spec.kind].append((spec, doc, root))
        for _, doc, root in documents[MODELS]:
            self.load_models(doc, root)
        self.resolve_field_types()
        for _, doc, root in documents[EVENTS]:
            self.load_events(doc, root)
        for spec, doc, root in documents[DOMAIN]:
            self.load_domain(spec, doc, root)
        self.check_services()
        for spec, doc, root in documents[MANIFEST]:
            self.load_manifest(spec, doc, root)
        if self.errors:
            raise SpecErrors(self.errors)
        return SpecSet(
            models=tuple(self.models),
            events=tuple(self.events.values()),
            domains=tuple(domain for domain, _ in self.domains.values()),
            manifests=tuple(self.manifests.values()),
            schemas=tuple(self.schemas.values()),
            warnings=tuple(sorted(self.warnings, key=SpecError.sort_key)),
        )

    # --- shared helpers

    def section(self, doc: Document, root: Any, key: str) -> dict:
        body = expect_mapping(doc, (), root)
        if body is None:
            return {}
        check_keys(doc, (), body, (key,), required=(key,))
        return expect_mapping(doc, (key,), body.get(key), null_is_empty=True) or {}

    def schema_name(self, doc: Document, path: KeyPath, value: Any) -> Optional[str]:
        name = expect_string(doc, path, value)
        if name is not None and name not in self.schemas:
            doc.error(path, f"unknown schema '{name}'", did_you_mean(name, list(self.schemas)))
        return name

    # --- models

    def load_models(self, doc: Document, root: Any) -> None:
        for name, value in self.section(doc, root, MODELS).items():
            path = (MODELS, name)
            if not _CAMEL_CASE.match(name):
                doc.error(path, f"model name '{name}' is not CamelCase")
                continue
            if name in self.model_files:
                doc.error(path, f"model '{name}' is already defined in {self.model_files[name]}")
                continue
            self.model_files[name] = doc.file
            body = expect_mapping(doc, path, value)
            if body is not None:
                check_keys(doc, path, body, _MODEL_KEYS, required=("fields",))
                self.add_model(doc, path, name, body)

    def add_model(self, doc: Document, path: KeyPath, name: str, body: dict) -> None:
        fields = self.fields(doc, path + ("fields",), name, body.get("fields"))
        description = optional_string(doc, path, body, "description")
        schema = Schema(name, name, None, fields, description)
        variants = []
        for variant_name, value in (
            expect_mapping(doc, path + ("variants",), body.get("variants"), True) or {}
        ).items():
            variant = self.variant(
                doc, path + ("variants", variant_name), schema, variant_name, value
            )
            if variant is not None:
                variants.append(variant)
        if name in self.schemas:  # a variant class of an earlier model took the name
            doc.error(
                path,
                f"model '{name}' collides with a variant class of model '{self.schemas[name].model}'",
            )
        self.schemas[name] = schema
        for variant in variants:
            self.schemas[variant.class_name] = variant
        self.models.append(Model(name, schema, tuple(variants)))

    def fields(self, doc: Document, path: KeyPath, model: str, value: Any) -> Tuple[Field, ...]:
        fields = []
        for name, body in (expect_mapping(doc, path, value, null_is_empty=True) or {}).items():
            field = self.field(doc, path + (name,), model, name, body)
            if field is not None:
                fields.append(field)
        return tuple(fields)

    def field(
        self, doc: Document, path: KeyPath, model: str, name: str, value: Any
    ) -> Optional[Field]:
        if not is_identifier(name) or name.startswith("_"):
            doc.error(path, f"field name '{name}' is not a Python identifier")
            return None
        body: Optional[dict]
        if isinstance(value, str):  # shorthand: `age: int`
            body, type_path = {"type": value}, path
        else:
            body, type_path = expect_mapping(doc, path, value), path + ("type",)
            if body is None:
                return None
            check_keys(doc, path, body, _FIELD_KEYS, required=("type",))
        type_ = read_type(doc, type_path, body["type"]) if "type" in body else None
        if type_ is None:
            return None
        optional = expect_bool(doc, path, body, "optional", False)
        default = body.get("default", MISSING)
        if default is not MISSING and not fits(OptionalType(type_) if optional else type_, default):
            doc.error(
                path + ("default",),
                f"default {show(default)} does not fit type '{type_text(type_)}'",
            )
        readonly = expect_bool(doc, path, body, "readonly", False)
        admin_only = expect_bool(doc, path, body, "admin_only", False)
        if admin_only and readonly:
            doc.error(
                path + ("admin_only",),
                f"field '{name}' is readonly: no client sets it, so admin_only says nothing",
                "remove one of readonly and admin_only",
            )
        field = Field(
            name=name,
            type=type_,
            readonly=readonly,
            admin_only=admin_only,
            optional=optional,
            default=default,
            description=optional_string(doc, path, body, "description"),
            constraints=read_constraints(doc, path, body, type_),
        )
        self.field_sites.append(_FieldSite(doc, type_path, model, field))
        return field

    def variant(
        self, doc: Document, path: KeyPath, model: Schema, name: str, value: Any
    ) -> Optional[Schema]:
        if not _CAMEL_CASE.match(name):
            doc.error(path, f"variant name '{name}' is not CamelCase")
            return None
        body = expect_mapping(doc, path, value, null_is_empty=True)
        if body is None:
            return None
        check_keys(doc, path, body, _VARIANT_KEYS)
        class_name = model.model + name
        if class_name in self.model_files or class_name in self.schemas:
            owner = class_name if class_name in self.model_files else self.schemas[class_name].model
            doc.error(
                path, f"variant class '{class_name}' collides with a class of model '{owner}'"
            )
            return None
        drops_readonly = name in _VARIANTS_WITHOUT_READONLY
        excluded = {
            field
            for _, field in self.field_names(doc, path + ("exclude",), model, body.get("exclude"))
        }
        optional = set()
        for index, field_name in self.field_names(
            doc, path + ("optional",), model, body.get("optional")
        ):
            field = next(field for field in model.fields if field.name == field_name)
            if field_name in excluded:
                doc.error(
                    path + ("optional", index),
                    f"field '{field_name}' is both excluded and optional",
                )
            elif drops_readonly and field.readonly:
                doc.error(
                    path + ("optional", index),
                    f"field '{field_name}' is readonly",
                    f"readonly fields are not part of {class_name}; remove it from the list",
                )
            optional.add(field_name)
        fields = tuple(
            replace(field, optional=True) if field.name in optional else field
            for field in model.fields
            if field.name not in excluded and not (drops_readonly and field.readonly)
        )
        return Schema(class_name, model.model, name, fields, model.description)

    def field_names(
        self, doc: Document, path: KeyPath, model: Schema, value: Any
    ) -> List[Tuple[int, str]]:
        known = [field.name for field in model.fields]
        names = []
        for index, name in string_list(doc, path, value):
            if name in known:
                names.append((index, name))
            else:
                doc.error(
                    path + (index,),
                    f"model '{model.model}' has no field '{name}'",
                    did_you_mean(name, known),
                )
        return names

    def resolve_field_types(self) -> None:
        for site in self.field_sites:
            for name in model_names(site.field.type):
                if name not in self.schemas:
                    site.doc.error(
                        site.type_path,
                        f"unknown type '{name}'",
                        did_you_mean(name, list(self.schemas)),
                    )
            contained = site.field.type
            if (
                isinstance(contained, ModelType)
                and not site.field.optional
                and self.model_of(contained.name) == site.model
            ):
                site.doc.error(
                    site.type_path,
                    f"model '{site.model}' contains itself",
                    "make the field optional or a list",
                )

    def model_of(self, class_name: str) -> Optional[str]:
        schema = self.schemas.get(class_name)
        return schema.model if schema else None

    # --- events

    def load_events(self, doc: Document, root: Any) -> None:
        """Events: `publish` defaults to true, `subscribe` to false."""
        for name, value in self.section(doc, root, EVENTS).items():
            path = (EVENTS, name)
            if not _SNAKE_CASE.match(name) or not is_identifier(name):
                doc.error(path, f"event name '{name}' is not snake_case")
                continue
            if name in self.event_files:
                doc.error(path, f"event '{name}' is already defined in {self.event_files[name]}")
                continue
            body = expect_mapping(doc, path, value)
            if body is None:
                continue
            check_keys(doc, path, body, _EVENT_KEYS, required=("message",))
            message = (
                self.schema_name(doc, path + ("message",), body["message"])
                if "message" in body
                else None
            )
            self.event_files[name] = doc.file
            self.events[name] = Event(
                name=name,
                message=message or "",
                publish=expect_bool(doc, path, body, "publish", True),
                subscribe=expect_bool(doc, path, body, "subscribe", False),
                description=optional_string(doc, path, body, "description"),
                retention=_retention(doc, path + ("retention",), body.get("retention")),
            )

    # --- domains

    def load_domain(self, spec: SpecPath, doc: Document, root: Any) -> None:
        body = expect_mapping(doc, (), root)
        if body is None:
            return
        check_keys(doc, (), body, _DOMAIN_KEYS, required=("operations",))
        if "domain" in body and body["domain"] != spec.domain:
            doc.error(
                ("domain",),
                f"domain {show(body['domain'])} does not match the file name '{spec.domain}'",
                f"write domain: {spec.domain}",
            )
        optional_string(doc, (), body, "description")  # for readers of the spec only
        config = expect_mapping(doc, ("config",), body.get("config"), null_is_empty=True) or {}
        check_keys(doc, ("config",), config, _DOMAIN_CONFIG_KEYS)
        prefix, tags = self.rest_config(doc, config.get("rest"), spec.domain)
        default_access = DEFAULT_ACCESS
        if "auth" in config:
            default_access = self.access(
                doc, ("config", "auth"), config["auth"], owner_allowed=False
            )
        profiles = PROFILES
        if "profiles" in config:
            profiles = self.profiles(doc, ("config", "profiles"), config["profiles"])
        operations = []
        for name, value in (
            expect_mapping(doc, ("operations",), body.get("operations"), True) or {}
        ).items():
            operation = self.operation(doc, ("operations", name), name, value, default_access)
            if operation is not None:
                operations.append(operation)
        key = (spec.service, spec.domain)
        if key in self.domains:
            doc.error(
                (),
                f"domain '{spec.service}.{spec.domain}' is already loaded from {self.domains[key][1].file}",
            )
            return
        self.domains[key] = (
            Domain(spec.service, spec.domain, doc.file, prefix, tags, tuple(operations), profiles),
            doc,
        )

    def rest_config(self, doc: Document, value: Any, domain: str) -> Tuple[str, Tuple[str, ...]]:
        """The REST prefix and tags: "/<domain>" and [<domain>] unless given."""
        path = ("config", "rest")
        rest = expect_mapping(doc, path, value, null_is_empty=True) or {}
        check_keys(doc, path, rest, ("prefix", "tags"))
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

    def profiles(self, doc: Document, path: KeyPath, value: Any) -> Tuple[str, ...]:
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

    def access(self, doc: Document, path: KeyPath, value: Any, owner_allowed: bool) -> Access:
        """`public` | `user` | a role | [roles] | {roles: [...], owner: <path param>}."""
        hint = "write public, user (any signed-in caller), a role such as admin, or a list of roles"
        if isinstance(value, dict):
            check_keys(doc, path, value, _AUTH_KEYS)
            if not owner_allowed and "owner" in value:
                doc.error(
                    path + ("owner",),
                    "owner names a path parameter, so it belongs to an operation's auth",
                    "move it to the operations that take that parameter",
                )
            if "roles" not in value and "owner" not in value:
                doc.error(path, "auth needs roles, owner or both", hint)
            roles = self.roles(doc, path + ("roles",), value.get("roles", []), hint)
            owner = (
                expect_string(doc, path + ("owner",), value["owner"]) if "owner" in value else None
            )
            return Access(roles=roles, owner=owner)
        if value == _PUBLIC:
            return Access(public=True)
        if value == _SIGNED_IN:
            return Access()
        if value is None or (isinstance(value, list) and not value):
            doc.error(path, "auth is empty", hint)
            return DEFAULT_ACCESS
        return Access(roles=self.roles(doc, path, value, hint))

    def roles(self, doc: Document, path: KeyPath, value: Any, hint: str) -> Tuple[str, ...]:
        """Role names (snake case); `user` alone stands for any signed-in caller: ()."""
        items: List[Tuple[Optional[int], str]] = (
            [(None, value)] if isinstance(value, str) else list(string_list(doc, path, value))
        )
        roles: List[str] = []
        for index, role in items:
            where = path if index is None else path + (index,)
            if role == _PUBLIC:
                doc.error(where, "public cannot be combined with roles", hint)
            elif role == _SIGNED_IN:
                if len(items) > 1:
                    doc.error(where, "user already admits every signed-in caller", hint)
            elif not _SNAKE_CASE.match(role):
                doc.error(where, f"role '{role}' is not a lower snake case name", hint)
            elif role not in roles:
                roles.append(role)
        return tuple(roles)

    def operation(
        self, doc: Document, path: KeyPath, name: str, value: Any, default_access: Access
    ) -> Optional[Operation]:
        if not is_identifier(name):
            doc.error(path, f"operation name '{name}' is not a Python identifier")
            return None
        body = expect_mapping(doc, path, value)
        if body is None:
            return None
        check_keys(doc, path, body, _OPERATION_KEYS)
        rest = self.rest(doc, path + ("rest",), body["rest"]) if "rest" in body else None
        operation = Operation(
            name=name,
            input=(
                self.schema_name(doc, path + ("input",), body["input"]) if "input" in body else None
            ),
            output=self.output(doc, path + ("output",), body.get("output")),
            params=self.params(doc, path, body.get("params"), rest),
            rest=rest,
            events=self.operation_events(doc, path + ("events",), body.get("events")),
            description=optional_string(doc, path, body, "description"),
            access=(
                self.access(doc, path + ("auth",), body["auth"], owner_allowed=True)
                if "auth" in body
                else default_access
            ),
        )
        self.check_access(doc, path, operation, "auth" in body)
        events = body.get("events")
        declares_transport = "rest" in body or (isinstance(events, dict) and "subscribe" in events)
        self.check_transport(doc, path, operation, declares_transport)
        self.check_events(doc, path, operation)
        return operation

    def check_access(
        self, doc: Document, path: KeyPath, operation: Operation, declares_auth: bool
    ) -> None:
        if declares_auth and operation.rest is None:
            doc.error(
                path + ("auth",),
                f"operation '{operation.name}' has no rest route, so no caller to check",
                "remove auth: events reach subscribers from the service's own broker",
            )
        owner = operation.access.owner
        if owner is None or operation.rest is None:
            return
        in_path = [param.name for param in operation.params if param.source == "path"]
        if owner not in in_path:
            doc.error(
                path + ("auth", "owner"),
                f"owner '{owner}' is not a path parameter of '{operation.name}'",
                did_you_mean(owner, in_path) or "name the path parameter holding the caller's id",
            )

    def output(self, doc: Document, path: KeyPath, value: Any) -> Output:
        if value is None:
            return Output(None)
        text = expect_string(doc, path, value)
        if text is None:
            return Output(None)
        as_list = _LIST_OUTPUT.match(text)
        name = as_list.group(1) if as_list else text
        self.schema_name(doc, path, name)
        return Output(name, is_list=bool(as_list))

    def rest(self, doc: Document, path: KeyPath, value: Any) -> Optional[Rest]:
        body = expect_mapping(doc, path, value)
        if body is None:
            return None
        check_keys(doc, path, body, _REST_KEYS, required=("method",))
        method = (
            expect_string(doc, path + ("method",), body["method"]) if "method" in body else None
        )
        if method is None:
            return None
        if method.upper() not in _METHODS:
            doc.error(
                path + ("method",),
                f"unknown method '{method}'",
                did_you_mean(method.upper(), _METHODS),
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
        errors = self.error_statuses(doc, path + ("errors",), body.get("errors"))
        return Rest(method, route, status, errors)

    def error_statuses(self, doc: Document, path: KeyPath, value: Any) -> Tuple[int, ...]:
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

    def params(
        self, doc: Document, path: KeyPath, value: Any, rest: Optional[Rest]
    ) -> Tuple[Param, ...]:
        """Parameters; a param's source is "path" when `{name}` is in the rest path, else "query"."""
        in_path = _PATH_PARAM.findall(rest.path) if rest else []
        items = value if isinstance(value, list) else []
        if value is not None and not isinstance(value, list):
            doc.error(path + ("params",), f"expected a list, got {describe(value)}")
        params: List[Param] = []
        for index, item in enumerate(items):
            param = self.param(doc, path + ("params", index), item, in_path)
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

    def param(
        self, doc: Document, path: KeyPath, value: Any, in_path: List[str]
    ) -> Optional[Param]:
        body = {"name": value} if isinstance(value, str) else expect_mapping(doc, path, value)
        if body is None:
            return None
        check_keys(doc, path, body, _PARAM_KEYS, required=("name",))
        name = body.get("name")
        if not isinstance(name, str) or not is_identifier(name):
            if "name" in body:
                doc.error(
                    path + ("name",), f"parameter name {show(name)} is not a Python identifier"
                )
            return None
        type_ = read_type(doc, path + ("type",), body.get("type", "string"))
        if type_ is not None and not isinstance(type_, (ScalarType, EnumType)):
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

    def operation_events(self, doc: Document, path: KeyPath, value: Any) -> OperationEvents:
        body = expect_mapping(doc, path, value, null_is_empty=True) or {}
        check_keys(doc, path, body, _OPERATION_EVENT_KEYS)
        names = {}
        for key in _OPERATION_EVENT_KEYS:
            name = expect_string(doc, path + (key,), body[key]) if key in body else None
            if name is not None and name not in self.events:
                doc.error(
                    path + (key,), f"unknown event '{name}'", did_you_mean(name, list(self.events))
                )
                name = None
            names[key] = name
        return OperationEvents(**names)

    def check_transport(
        self, doc: Document, path: KeyPath, operation: Operation, declares_transport: bool
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

    def check_events(self, doc: Document, path: KeyPath, operation: Operation) -> None:
        """Subscribing needs the event's message as input; published messages are built from the
        output (on success) or the input (on error) by field name, so their required fields must exist there.
        """
        path = path + ("events",)
        events = operation.events
        if events.subscribe is not None:
            event = self.events[events.subscribe]
            if not event.subscribe:
                # The template ignores these flags: what the operation does wins, with a warning.
                doc.warning(
                    path + ("subscribe",),
                    f"event '{event.name}' says 'subscribe: false' in {self.event_files[event.name]}"
                    " but this operation subscribes to it",
                    "set 'subscribe: true' on it in events.yaml",
                )
                event = self.events[event.name] = replace(event, subscribe=True)
            if operation.input != event.message:
                given = f"not '{operation.input}'" if operation.input else "the operation has none"
                doc.error(
                    path + ("subscribe",),
                    f"subscribing to event '{event.name}' needs input '{event.message}', {given}",
                    f"write input: {event.message}",
                )
        for key, source in (("publish_on_success", "output"), ("publish_on_error", "input")):
            name = getattr(events, key)
            if name is None:
                continue
            event = self.events[name]
            if not event.publish:
                doc.warning(
                    path + (key,),
                    f"event '{name}' says 'publish: false' in {self.event_files[name]}"
                    " but this operation publishes it",
                    "set 'publish: true' on it in events.yaml",
                )
                event = self.events[name] = replace(event, publish=True)
            schema = operation.output.schema if source == "output" else operation.input
            if source == "output" and operation.output.is_list:
                doc.error(
                    path + (key,),
                    f"{key} cannot build the message of event '{name}' from a list output",
                )
            elif schema is None:
                doc.error(
                    path + (key,),
                    f"{key} builds the message of event '{name}' from the {source}, but the operation has none",
                )
            else:
                self.check_message_source(doc, path + (key,), event, schema)

    def check_message_source(self, doc: Document, path: KeyPath, event: Event, source: str) -> None:
        if source not in self.schemas or event.message not in self.schemas:
            return  # already reported
        available = {field.name for field in self.schemas[source].fields}
        for field in self.schemas[event.message].fields:
            if field.required and field.name not in available:
                doc.error(
                    path,
                    f"message '{event.message}' of event '{event.name}' needs field '{field.name}', which '{source}' lacks",
                )

    def check_services(self) -> None:
        """Operation names and routes are unique within a service, across its domains."""
        names: Dict[Tuple[str, str], str] = {}
        routes: Dict[Tuple[str, str, str], str] = {}
        for (service, _), (domain, doc) in sorted(self.domains.items()):
            for operation in domain.operations:
                path = ("operations", operation.name)
                earlier = names.setdefault((service, operation.name), domain.file)
                if earlier != domain.file:
                    doc.error(path, f"operation '{operation.name}' is already defined in {earlier}")
                if operation.rest is None:
                    continue
                full_path = domain.prefix + operation.rest.path
                route = (service, operation.rest.method, _PATH_PARAM.sub("{}", full_path))
                owner = routes.setdefault(route, f"{domain.name}.{operation.name}")
                if owner != f"{domain.name}.{operation.name}":
                    doc.error(
                        path + ("rest",),
                        f"route {operation.rest.method} {full_path} is already used by {owner}",
                    )

    # --- manifests

    def load_manifest(self, spec: SpecPath, doc: Document, root: Any) -> None:
        """`consumes` entries; an empty or missing operations list means every REST operation."""
        body = expect_mapping(doc, (), root)
        if body is None:
            return
        check_keys(doc, (), body, ("consumes",))
        items = body.get("consumes")
        if items is not None and not isinstance(items, list):
            doc.error(("consumes",), f"expected a list, got {describe(items)}")
            items = None
        consumed = []
        for index, item in enumerate(items or []):
            entry = self.consumed(doc, ("consumes", index), item)
            if entry is not None:
                consumed.append(entry)
        self.manifests[spec.service] = Manifest(spec.service, doc.file, tuple(consumed))

    def consumed(self, doc: Document, path: KeyPath, value: Any) -> Optional[Consumed]:
        body = expect_mapping(doc, path, value)
        if body is None:
            return None
        check_keys(doc, path, body, _CONSUMES_KEYS, required=("service", "domain"))
        service = (
            expect_string(doc, path + ("service",), body["service"]) if "service" in body else None
        )
        name = expect_string(doc, path + ("domain",), body["domain"]) if "domain" in body else None
        if service is None or name is None:
            return None
        if (service, name) not in self.domains:
            known = sorted(domain for owner, domain in self.domains if owner == service)
            hint = (
                f"known domains of {service}: {', '.join(known)}"
                if known
                else f"no domain spec of service '{service}' was loaded"
            )
            doc.error(path + ("domain",), f"unknown domain '{service}.{name}'", hint)
            return None
        domain = self.domains[(service, name)][0]
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


def load(files: Mapping[str, str], *, warnings_as_errors: bool = False) -> SpecSet:
    """Load a spec set from {repo-relative path: YAML text}; raises SpecErrors listing every problem.

    Any subset of files may be given; cross-file references are checked against what was given.
    Warnings (`SpecSet.warnings`) are problems the template tolerates; `warnings_as_errors` raises
    them with the errors.
    """
    with gc_paused():
        loader = _Loader()
        try:
            spec = loader.load(files)
        except SpecErrors:
            if warnings_as_errors:
                raise SpecErrors(loader.errors + loader.warnings) from None
            raise
        if warnings_as_errors and spec.warnings:
            raise SpecErrors(spec.warnings)
        return spec
