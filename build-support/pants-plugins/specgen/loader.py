"""Load spec files into the typed IR of `ir.py`, validating everything strictly.

`load` reads every given file, collects all errors (with file, line and key path) and raises
`SpecErrors` if there is any; bad input never surfaces as a Python traceback.
Runs on Python 3.9 (inside Pants) and 3.11.
"""

from __future__ import annotations

import datetime
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
    is_number,
    optional_string,
    show,
    string_list,
)
from specgen.errors import SpecError, SpecErrors
from specgen.ir import (
    DEFAULT_ACCESS,
    MISSING,
    PROFILES,
    SCALARS,
    Access,
    Consumed,
    Domain,
    Event,
    Field,
    Manifest,
    Model,
    Operation,
    OperationEvents,
    Output,
    Param,
    Retention,
    Rest,
    Schema,
    SpecSet,
    TypeRef,
)
from specgen.yaml_reader import Document, KeyPath, gc_paused, parse_yaml

MODELS, EVENTS, DOMAIN, MANIFEST = "models", "events", "domain", "manifest"
RESERVED_DOMAINS = ("clients",)  # the manifest generates generated.<service>.clients

_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
_ENUM_VALUE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_PARAM = re.compile(r"\{([^{}]*)\}")
_LIST_OUTPUT = re.compile(r"^\s*list\[\s*([^\[\]\s]+)\s*\]\s*$")

_NUMERIC_CONSTRAINTS = ("ge", "gt", "le", "lt")
_LENGTH_CONSTRAINTS = ("min_length", "max_length")
_CONSTRAINTS = _NUMERIC_CONSTRAINTS + _LENGTH_CONSTRAINTS
_MODEL_KEYS = ("fields", "variants", "description")
_FIELD_KEYS = (
    "type",
    "readonly",
    "default",
    "optional",
    "description",
    "admin_only",
) + _CONSTRAINTS
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
_PARAM_KEYS = ("name", "type", "source", "required", "default", "description") + _CONSTRAINTS
_REST_KEYS = ("method", "path", "status", "errors")
_OPERATION_EVENT_KEYS = ("subscribe", "publish_on_success", "publish_on_error")
_CONSUMES_KEYS = ("service", "domain", "operations")
_TYPE_FORM_KEYS = {
    "list": ("type", "of"),
    "optional": ("type", "of"),
    "dict": ("type", "key", "value"),
    "enum": ("type", "values", "default"),
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DEFAULT_STATUS = {"POST": 201, "DELETE": 204}
_VARIANTS_WITHOUT_READONLY = ("Create", "Update")  # readonly fields are server-owned
_TYPE_ALIASES = {
    "integer": "int",
    "long": "int",
    "text": "string",
    "boolean": "bool",
    "double": "float",
    "number": "float",
    "decimal": "float",
    "timestamp": "datetime",
    "date": "datetime",
    "guid": "uuid",
    "array": "list",
    "map": "dict",
    "object": "dict",
}


# ---------------------------------------------------------------------------- file layout


@dataclass(frozen=True)
class SpecPath:
    kind: str  # models | events | domain | manifest
    service: str = ""
    domain: str = ""


class _PathProblem(Exception):
    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _classify(path: str) -> SpecPath:
    parts = path.replace("\\", "/").split("/")
    if len(parts) < 3 or parts[-2] != "spec" or not parts[-1].endswith(".yaml"):
        raise _PathProblem(
            "not a spec file path",
            "use shared/spec/{models,events}.yaml or <service>/spec/<domain|manifest>.yaml",
        )
    directory, stem = parts[-3], parts[-1][: -len(".yaml")]
    if directory == "shared":
        if stem in (MODELS, EVENTS):
            return SpecPath(stem)
        raise _PathProblem("shared/spec holds only models.yaml and events.yaml")
    if not is_identifier(directory):
        raise _PathProblem(f"service name '{directory}' is not a Python identifier")
    if stem == MANIFEST:
        return SpecPath(MANIFEST, directory)
    if not is_identifier(stem):
        raise _PathProblem(f"domain name '{stem}' is not a Python identifier")
    if stem in RESERVED_DOMAINS:
        raise _PathProblem(
            f"domain name '{stem}' is reserved",
            f"generated.{directory}.{stem} is generated from the manifest; rename the file",
        )
    return SpecPath(DOMAIN, directory, stem)


def _path_error(path: str, problem: _PathProblem) -> SpecError:
    return SpecError(path, 1, "", problem.message, problem.hint)


def classify(path: str) -> SpecPath:
    """The kind, service and domain of a spec path; raises SpecErrors for any other path."""
    try:
        return _classify(path)
    except _PathProblem as problem:
        raise SpecErrors([_path_error(path, problem)]) from None


def spec_kind(path: str) -> str:
    """ "models", "events", "domain" or "manifest", from the path alone."""
    return classify(path).kind


def module_name(path: str) -> str:
    """The Python module generated from a spec path, from the path alone."""
    spec = classify(path)
    if spec.kind in (MODELS, EVENTS):
        return f"generated.{spec.kind}"
    if spec.kind == MANIFEST:
        return f"generated.{spec.service}.clients"
    return f"generated.{spec.service}.{spec.domain}"


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


# ---------------------------------------------------------------------------- types


class _TypeProblem(Exception):
    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def type_text(type_: TypeRef) -> str:
    """The shorthand spelling of a type, for messages."""
    if type_.kind in ("scalar", "model"):
        return type_.name
    if type_.kind == "dict":
        return f"dict[{type_text(type_.dict_key)},{type_text(type_.inner)}]"
    if type_.kind == "enum":
        return f"enum[{','.join(type_.values)}]"
    return f"{type_.kind}[{type_text(type_.inner)}]"


def _parse_type_text(text: str) -> TypeRef:
    if "<" in text or ">" in text:
        raise _TypeProblem(
            f"unknown type '{text}'", f"did you mean '{text.replace('<', '[').replace('>', ']')}'?"
        )
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S", text)
    end, type_ = _parse_type_tokens(tokens, 0, text)
    if end != len(tokens):
        raise _TypeProblem(f"invalid type '{text}'")
    return type_


def _parse_type_tokens(tokens: List[str], position: int, text: str) -> Tuple[int, TypeRef]:
    if position >= len(tokens):
        raise _TypeProblem(f"invalid type '{text}'")
    name, position = tokens[position], position + 1
    has_arguments = position < len(tokens) and tokens[position] == "["
    if name not in ("list", "dict"):
        if has_arguments:
            raise _TypeProblem(
                f"unknown type '{text}'", "only list[T] and dict[K,V] take type arguments"
            )
        return position, _named_type(name)
    if not has_arguments:
        raise _TypeProblem(
            f"'{name}' needs type arguments",
            "write list[T]" if name == "list" else "write dict[K,V]",
        )
    arguments, position = [], position + 1
    while True:
        position, argument = _parse_type_tokens(tokens, position, text)
        arguments.append(argument)
        separator = tokens[position] if position < len(tokens) else ""
        position += 1
        if separator == "]":
            break
        if separator != ",":
            raise _TypeProblem(f"invalid type '{text}'")
    if name == "list" and len(arguments) == 1:
        return position, TypeRef("list", of=arguments[0])
    if name == "dict" and len(arguments) == 2:
        return position, _dict_type(arguments[0], arguments[1])
    raise _TypeProblem(f"invalid type '{text}'", "write list[T] or dict[K,V]")


# Python's names for the scalars the template accepts; int, float and bool are spelled alike.
_PYTHON_SCALARS = {"str": "string"}


def _named_type(name: str) -> TypeRef:
    name = _PYTHON_SCALARS.get(name, name)
    if name in SCALARS:
        return TypeRef("scalar", name)
    if name in _TYPE_ALIASES:
        raise _TypeProblem(f"unknown type '{name}'", f"did you mean '{_TYPE_ALIASES[name]}'?")
    if name[:1].isupper():
        return TypeRef("model", name)  # resolved once every model is known
    raise _TypeProblem(f"unknown type '{name}'", did_you_mean(name, SCALARS + ("list", "dict")))


def _dict_type(key: TypeRef, value: TypeRef) -> TypeRef:
    if key.kind != "scalar" or key.name == "float":
        raise _TypeProblem(
            f"dict keys must be string, int, bool, datetime or uuid, not '{type_text(key)}'"
        )
    return TypeRef("dict", key=key, of=value)


def _base_type(type_: TypeRef) -> TypeRef:
    return type_.of if type_.kind == "optional" and type_.of is not None else type_


def _fits(type_: TypeRef, value: Any) -> bool:
    """Whether a default value is valid for the type."""
    if value is None:
        return type_.kind == "optional"
    if type_.kind == "optional":
        return _fits(type_.inner, value)
    if type_.kind == "enum":
        return value in type_.values
    if type_.kind == "list":
        return isinstance(value, list) and all(_fits(type_.inner, item) for item in value)
    if type_.kind == "dict":
        return isinstance(value, dict) and all(_fits(type_.inner, item) for item in value.values())
    if type_.kind == "model":
        return isinstance(value, dict)
    if type_.name == "bool":
        return isinstance(value, bool)
    if type_.name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_.name == "float":
        return is_number(value)
    if type_.name == "datetime":  # YAML reads an unquoted ISO timestamp as a date or datetime
        return isinstance(value, (str, datetime.date))
    return isinstance(value, str)  # string, uuid


def _model_names(type_: Optional[TypeRef]) -> List[str]:
    if type_ is None:
        return []
    own = [type_.name] if type_.kind == "model" else []
    return own + _model_names(type_.of) + _model_names(type_.key)


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
                spec = _classify(path)
            except _PathProblem as problem:
                self.errors.append(_path_error(path, problem))
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

    def type(self, doc: Document, path: KeyPath, value: Any) -> Optional[TypeRef]:
        if isinstance(value, dict):
            return self.type_form(doc, path, value)
        if not isinstance(value, str):
            doc.error(path, f"expected a type name or a mapping, got {describe(value)}")
            return None
        try:
            return _parse_type_text(value)
        except _TypeProblem as problem:
            doc.error(path, problem.message, problem.hint)
            return None

    def type_form(self, doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
        """The full form of a type: {type: list|optional, of}, {type: dict, key, value}, {type: enum, ...}."""
        kind = body.get("type")
        if not isinstance(kind, str):
            check_keys(doc, path, body, ("type",), required=("type",))
            if "type" in body:
                doc.error(path + ("type",), f"expected a type name, got {describe(kind)}")
            return None
        allowed = _TYPE_FORM_KEYS.get(kind, ("type",))
        check_keys(doc, path, body, allowed, required=[key for key in allowed if key != "default"])
        if kind == "enum":
            return self.enum(doc, path, body)
        if kind not in _TYPE_FORM_KEYS:
            return self.type(doc, path + ("type",), kind)
        if any(key not in body for key in allowed if key != "default"):
            return None
        if kind == "dict":
            return self.dict_form(doc, path, body)
        of = self.type(doc, path + ("of",), body["of"])
        return TypeRef(kind, of=of) if of else None

    def dict_form(self, doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
        key = self.type(doc, path + ("key",), body["key"])
        value = self.type(doc, path + ("value",), body["value"])
        if key is None or value is None:
            return None
        try:
            return _dict_type(key, value)
        except _TypeProblem as problem:
            doc.error(path + ("key",), problem.message, problem.hint)
            return None

    def enum(self, doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
        values = string_list(doc, path + ("values",), body.get("values"))
        names = [value for _, value in values]
        for index, value in values:
            if not _ENUM_VALUE.match(value):
                doc.error(
                    path + ("values", index),
                    f"enum value '{value}' is not a name",
                    "use letters, digits and _",
                )
            elif names.index(value) != index:
                doc.error(path + ("values", index), f"duplicate enum value '{value}'")
        if "values" in body and len(set(names)) < 2:
            doc.error(path + ("values",), "an enum needs at least two values")
        default = body.get("default", MISSING)
        if default is not MISSING and default not in names:
            doc.error(
                path + ("default",),
                f"enum default {show(default)} is not one of its values",
                f"use one of {', '.join(dict.fromkeys(names))}",
            )
            default = MISSING
        return TypeRef("enum", values=tuple(names), enum_default=default)

    def constraints(
        self, doc: Document, path: KeyPath, body: dict, type_: TypeRef
    ) -> Tuple[Tuple[str, Any], ...]:
        base = _base_type(type_)
        found = []
        for key in (key for key in _CONSTRAINTS if key in body):
            value = body[key]
            if key in _NUMERIC_CONSTRAINTS:
                applies = base.kind == "scalar" and base.name in ("int", "float")
                valid = is_number(value)
                kinds, expected = "numeric types", "a number"
            else:
                applies = base.kind == "list" or (base.kind == "scalar" and base.name == "string")
                valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
                kinds, expected = "string and list types", "a non-negative integer"
            if not applies:
                doc.error(
                    path + (key,), f"'{key}' applies to {kinds} only, not '{type_text(type_)}'"
                )
            elif not valid:
                doc.error(path + (key,), f"'{key}' must be {expected}, got {show(value)}")
            else:
                found.append((key, value))
        return tuple(found)

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
        type_ = self.type(doc, type_path, body["type"]) if "type" in body else None
        if type_ is None:
            return None
        optional = expect_bool(doc, path, body, "optional", False)
        default = body.get("default", MISSING)
        if default is not MISSING and not _fits(
            TypeRef("optional", of=type_) if optional else type_, default
        ):
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
            constraints=self.constraints(doc, path, body, type_),
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
            for name in _model_names(site.field.type):
                if name not in self.schemas:
                    site.doc.error(
                        site.type_path,
                        f"unknown type '{name}'",
                        did_you_mean(name, list(self.schemas)),
                    )
            contained = site.field.type
            if (
                contained.kind == "model"
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
        type_ = self.type(doc, path + ("type",), body.get("type", "string"))
        if type_ is not None and type_.kind not in ("scalar", "enum"):
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
        if default is not MISSING and not _fits(type_, default):
            doc.error(
                path + ("default",),
                f"default {show(default)} does not fit type '{type_text(type_)}'",
            )
        return Param(
            name=name,
            type=type_,
            source=source,
            required=source == "path"
            or (explicitly_required and default is MISSING and type_.enum_default is MISSING),
            default=default,
            description=optional_string(doc, path, body, "description"),
            constraints=self.constraints(doc, path, body, type_),
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
