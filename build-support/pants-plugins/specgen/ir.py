"""The typed form of a validated spec set: what the loader produces and every generator reads.

Meaning is decided once, here and in the loader (which field is required, which variant drops
what, which status a route answers with); generators only render it.
Runs on Python 3.9 (inside Pants) and on the services' Python 3.11.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union, final

from specgen.errors import SpecError

SCALARS = ("int", "float", "bool", "string", "datetime", "uuid")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# A field or parameter type: one small final class per kind, so code dispatches on the class.
# `type(t) is ScalarType` is the test: as cheap as comparing strings (a failed isinstance() costs
# three times as much, and generators test every field's type), and mypy narrows the union by it
# because the classes are final. The functions that render a type test each class in turn and
# handle the last one unconditionally, so a kind added here fails type checking until handled.


@final
@dataclass(frozen=True)
class ScalarType:
    name: str  # one of SCALARS


@final
@dataclass(frozen=True)
class ModelType:
    name: str  # a schema class name: a model or a variant class such as "UserCreate"


@final
@dataclass(frozen=True)
class ListType:
    of: TypeRef


@final
@dataclass(frozen=True)
class DictType:
    key: ScalarType  # any scalar but float
    value: TypeRef


@final
@dataclass(frozen=True)
class OptionalType:
    of: TypeRef


@final
@dataclass(frozen=True)
class EnumType:
    values: Tuple[str, ...]
    default: Any = MISSING


TypeRef = Union[ScalarType, ModelType, ListType, DictType, OptionalType, EnumType]


def walk(type_: TypeRef) -> Iterator[TypeRef]:
    """The type and every type nested in it."""
    pending = [type_]  # depth first, the type before its key before its value type
    while pending:
        current = pending.pop()
        yield current
        if type(current) is ListType or type(current) is OptionalType:
            pending.append(current.of)
        elif type(current) is DictType:
            pending += (current.value, current.key)


def model_names(type_: TypeRef) -> List[str]:
    """The schema classes the type names, itself or nested."""
    return [t.name for t in walk(type_) if type(t) is ModelType]


def implied_default(type_: TypeRef) -> Any:
    """The default a type brings by itself (an enum's), else MISSING."""
    return type_.default if type(type_) is EnumType else MISSING


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeRef
    readonly: bool = False
    optional: bool = False  # may be omitted / null; default None unless `default` is set
    default: Any = MISSING
    description: Optional[str] = None
    constraints: Tuple[Tuple[str, Any], ...] = ()  # ("ge", 0), ("max_length", 20), ...
    admin_only: bool = False  # only a caller with the admin role may set it in a request body

    @property
    def required(self) -> bool:
        return (
            not self.optional and self.default is MISSING and implied_default(self.type) is MISSING
        )


@dataclass(frozen=True)
class Schema:
    """One generated Pydantic class: a model itself or one of its variants, fields resolved."""

    class_name: str  # "User", "UserCreate"
    model: str  # the model it derives from: "User"
    variant: Optional[str]  # None for the model itself, else "Create", "Update", ...
    fields: Tuple[Field, ...]
    description: Optional[str] = None


@dataclass(frozen=True)
class Model:
    name: str
    schema: Schema  # the model's own class (all fields)
    variants: Tuple[Schema, ...]  # in spec order


@dataclass(frozen=True)
class Event:
    name: str  # "user_registered"
    message: str  # schema class name
    publish: bool
    subscribe: bool
    description: Optional[str] = None
    retention: Optional["Retention"] = None  # None: the runtime's default


@dataclass(frozen=True)
class Retention:
    """What the event's stream keeps: at most `max_length` entries, none older than `max_age`."""

    max_length: Optional[int] = None
    max_age_seconds: Optional[int] = None


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeRef  # scalar or enum
    source: str  # "path" | "query"
    required: bool
    default: Any = MISSING
    description: Optional[str] = None
    constraints: Tuple[Tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Rest:
    method: str  # upper case: GET POST PUT PATCH DELETE
    path: str  # relative to the domain prefix, "" or "/{user_id}"
    status: int  # resolved: POST 201, DELETE 204, else 200 unless given
    # Failures the operation answers with, each with servicekit's error body; 413, 422 and 503 come by themselves.
    errors: Tuple[int, ...] = ()
    # Whether the route takes an If-Match header (optimistic concurrency): None, "optional" or
    # "required" (428 without one).
    if_match: Optional[str] = None
    # Whether the route takes an Idempotency-Key header: "optional", "required" or "off"; None
    # (not written) is the default of generators.operations.idempotency.
    idempotency: Optional[str] = None


@dataclass(frozen=True)
class OperationEvents:
    subscribe: Optional[str] = None  # event name that triggers the operation
    publish_on_success: Optional[str] = None  # event built from the output
    publish_on_error: Optional[str] = None  # event built from the input


@dataclass(frozen=True)
class Output:
    schema: Optional[str]  # schema class name, None for no body
    is_list: bool = False


ADMIN = "admin"
SERVICE = "service"
PROFILES: Tuple[str, ...] = ("development", "production")


@dataclass(frozen=True)
class Access:
    """Who may call a REST operation.

    public: anyone, with or without a token. Otherwise a verified bearer token is required, and
    its roles must include one of `roles`, unless `owner` names a path parameter equal to the
    token's subject (the caller acting on itself); with neither, any signed-in caller.
    """

    public: bool = False
    roles: Tuple[str, ...] = ()
    owner: Optional[str] = None


# What an operation that says nothing gets: nothing is open by accident.
DEFAULT_ACCESS = Access(roles=(ADMIN,))


@dataclass(frozen=True)
class Operation:
    name: str
    input: Optional[str]  # schema class name of the body / event message
    output: Output
    params: Tuple[Param, ...]
    rest: Optional[Rest]
    events: OperationEvents
    description: Optional[str] = None
    access: Access = DEFAULT_ACCESS


ON_DELETE = ("cascade", "restrict", "set_null", "no_action")


@dataclass(frozen=True)
class Reference:
    """A column holding the primary key of another model stored by the same domain."""

    field: str
    model: str
    on_delete: str = "no_action"  # one of ON_DELETE


@dataclass(frozen=True)
class Storage:
    """A model kept in a table of the service's database: its columns are the model's fields."""

    model: str
    table: str
    primary_key: str  # an int (identity) or uuid (random) key is generated by the database
    unique: Tuple[Tuple[str, ...], ...] = ()  # each a set of fields unique together
    indexes: Tuple[Tuple[str, ...], ...] = ()
    references: Tuple[Reference, ...] = ()
    set_now_on_create: Tuple[str, ...] = ()  # datetime fields the database sets when inserting
    set_now_on_update: Tuple[str, ...] = ()  # ... and again on every update
    version: Optional[str] = None  # an int field the repository counts up on every update


@dataclass(frozen=True)
class Domain:
    service: str  # "backend"
    name: str  # the file's stem: "users"
    file: str  # repo-relative path of the spec
    prefix: str  # "/users"
    tags: Tuple[str, ...]
    operations: Tuple[Operation, ...]
    profiles: Tuple[str, ...] = PROFILES  # the service profiles whose app serves the domain
    storage: Tuple[Storage, ...] = ()  # the models the domain keeps in tables, in spec order


@dataclass(frozen=True)
class Consumed:
    service: str
    domain: str
    operations: Tuple[str, ...]  # resolved: an empty list in the spec means all, listed here


@dataclass(frozen=True)
class Manifest:
    service: str
    file: str
    consumes: Tuple[Consumed, ...]


@dataclass(frozen=True)
class SpecSet:
    models: Tuple[Model, ...] = ()
    events: Tuple[Event, ...] = ()
    domains: Tuple[Domain, ...] = ()
    manifests: Tuple[Manifest, ...] = ()
    schemas: Tuple[Schema, ...] = field(default=())  # every class: models and variants, spec order
    warnings: Tuple[SpecError, ...] = field(default=(), compare=False)  # see loader.load

    # Lookups by name go through dicts built on first use and kept outside the dataclass fields
    # (eq, hash, repr and replace() see only the fields); a name not found still raises
    # StopIteration, and the first of duplicate names wins, as with a linear search.

    def schema(self, class_name: str) -> Schema:
        found = self._index("schemas").get(class_name)
        return (
            found
            if found is not None
            else next(s for s in self.schemas if s.class_name == class_name)
        )

    def event(self, name: str) -> Event:
        found = self._index("events").get(name)
        return found if found is not None else next(e for e in self.events if e.name == name)

    def domain(self, service: str, name: str) -> Domain:
        found = self._index("domains").get((service, name))
        return (
            found
            if found is not None
            else next(d for d in self.domains if d.service == service and d.name == name)
        )

    def _index(self, kind: str) -> Dict[Any, Any]:
        indexes: Optional[Dict[str, Dict[Any, Any]]] = self.__dict__.get("_indexes")
        if indexes is None:
            indexes = {}
            object.__setattr__(
                self, "_indexes", indexes
            )  # a cache, not a field of the frozen value
        index = indexes.get(kind)
        if index is None:
            index = {}
            if kind == "schemas":
                for schema in self.schemas:
                    index.setdefault(schema.class_name, schema)
            elif kind == "events":
                for event in self.events:
                    index.setdefault(event.name, event)
            else:
                for domain in self.domains:
                    index.setdefault((domain.service, domain.name), domain)
            indexes[kind] = index
        return index
