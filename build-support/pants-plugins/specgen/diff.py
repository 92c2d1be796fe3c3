"""What changed between two spec sets, split into changes that break existing clients and safe ones.

Clients are the services and apps generated from the old specs. A change breaks them when what
they send may now be rejected (a narrowed type, a field made required, a new required input
field), when what they receive may no longer fit their models (a widened type or a field made
nullable in a response or event), or when something they use is gone or moved (a removed or
renamed model, field, operation or event; a changed route, status, input or output), or when
they may no longer call it (an `auth` admitting fewer callers, a field made `admin_only`, a domain
taken out of a profile's app).
A rename is a removal plus an addition: the removal breaks. Manifests say what a service uses,
not what it offers, so they are not compared (the loader checks they still resolve).
A stored model's changes are also judged for the rows already in its table: a change the
migration cannot apply to them, or that loses them, breaks the database (the message says which
migration it needs).
Runs on Python 3.9 (inside Pants) and 3.11.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Set, Tuple, TypeVar

from specgen.ir import (
    Access,
    DictType,
    Domain,
    EnumType,
    Event,
    Field,
    ListType,
    MISSING,
    Operation,
    OptionalType,
    Param,
    ScalarType,
    Schema,
    SpecSet,
    Storage,
    TypeRef,
    implied_default,
    model_names,
)
from specgen.type_grammar import type_text

SAME, WIDENED, NARROWED, CHANGED = "same", "widened", "narrowed", "changed"

# How each constraint narrows: a larger lower bound or a smaller upper bound accepts less.
_LOWER_BOUNDS = ("ge", "gt", "min_length")
_UPPER_BOUNDS = ("le", "lt", "max_length")

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Change:
    where: str  # "models.UserCreate.fields.telegram_id", "events.user_registered", "backend.users.get_user"
    message: str
    breaking: bool

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class SpecChanges:
    breaking: Tuple[Change, ...]
    safe: Tuple[Change, ...]


def compare(old: SpecSet, new: SpecSet) -> SpecChanges:
    """The changes from `old` to `new`, each list in a stable order (by place, then message)."""
    changes = [
        *_compare_schemas(old, new),
        *_compare_events(old, new),
        *_compare_domains(old, new),
        *_compare_storage(old, new),
    ]
    ordered = sorted(set(changes), key=lambda c: (c.where, c.message))
    return SpecChanges(
        breaking=tuple(c for c in ordered if c.breaking),
        safe=tuple(c for c in ordered if not c.breaking),
    )


# ---------------------------------------------------------------------------- types


def type_change(old: TypeRef, new: TypeRef) -> str:
    """SAME, WIDENED (accepts every old value and more), NARROWED (the reverse) or CHANGED."""
    if old == new:
        return SAME
    if type(new) is OptionalType and type(old) is not OptionalType:
        return _at_least(type_change(old, new.of), WIDENED)
    if type(old) is OptionalType and type(new) is not OptionalType:
        return _at_least(type_change(old.of, new), NARROWED)
    if type(old) is ScalarType and type(new) is ScalarType:
        return {("int", "float"): WIDENED, ("float", "int"): NARROWED}.get(
            (old.name, new.name), CHANGED
        )
    if type(old) is EnumType and type(new) is EnumType:
        old_values, new_values = set(old.values), set(new.values)
        if old_values == new_values:
            return SAME  # only the order or the default differs
        if old_values < new_values:
            return WIDENED
        return NARROWED if new_values < old_values else CHANGED
    if type(old) is DictType and type(new) is DictType:
        return _combine(type_change(old.value, new.value), type_change(old.key, new.key))
    if type(old) is ListType and type(new) is ListType:
        return type_change(old.of, new.of)
    if type(old) is OptionalType and type(new) is OptionalType:
        return type_change(old.of, new.of)
    # Different kinds, or two model classes (same-named classes are compared field by field).
    return CHANGED


def constraint_change(old: Iterable[Tuple[str, object]], new: Iterable[Tuple[str, object]]) -> str:
    """How constraints (ge, max_length, ...) changed what they accept."""
    old_bounds, new_bounds = dict(old), dict(new)
    result = SAME
    for name in set(old_bounds) | set(new_bounds):
        before, after = old_bounds.get(name), new_bounds.get(name)
        if before == after:
            continue
        if before is None or after is None:
            result = _combine(result, NARROWED if before is None else WIDENED)
        else:
            tighter = after > before if name in _LOWER_BOUNDS else after < before  # type: ignore[operator]
            result = _combine(result, NARROWED if tighter else WIDENED)
    return result


def _combine(a: str, b: str) -> str:
    if a == SAME:
        return b
    if b == SAME or a == b:
        return a
    return CHANGED


def _at_least(inner: str, outer: str) -> str:
    return outer if inner in (SAME, outer) else CHANGED


def _value_change(old_type: TypeRef, new_type: TypeRef, old_constraints, new_constraints) -> str:
    return _combine(
        type_change(old_type, new_type),
        constraint_change(old_constraints, new_constraints),
    )


def _describe_type_change(change: str, old: TypeRef, new: TypeRef) -> str:
    if old == new:
        return f"constraints {change}"
    return f"type {change}: {type_text(old)} -> {type_text(new)}"


# ---------------------------------------------------------------------------- models


@dataclass(frozen=True)
class _Usage:
    """Whether clients send values of a schema (inputs, events) and whether they receive them."""

    sent: bool
    received: bool


def _usages(spec: SpecSet) -> Dict[str, _Usage]:
    sent = _closure(spec, _sent_roots(spec))
    received = _closure(spec, _received_roots(spec))
    used = sent | received
    # A schema no operation or event uses is still a class clients may build or read: both.
    return {
        s.class_name: _Usage(
            s.class_name in sent or s.class_name not in used,
            s.class_name in received or s.class_name not in used,
        )
        for s in spec.schemas
    }


def _sent_roots(spec: SpecSet) -> Set[str]:
    roots = {e.message for e in spec.events}
    roots.update(o.input for d in spec.domains for o in d.operations if o.input)
    return roots


def _received_roots(spec: SpecSet) -> Set[str]:
    roots = {e.message for e in spec.events}
    roots.update(o.output.schema for d in spec.domains for o in d.operations if o.output.schema)
    return roots


def _closure(spec: SpecSet, roots: Set[str]) -> Set[str]:
    """The schemas reachable from `roots` through field types."""
    known = {s.class_name for s in spec.schemas}
    found: Set[str] = set()
    pending = [r for r in roots if r in known]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        for field in spec.schema(name).fields:
            pending.extend(n for n in model_names(field.type) if n in known)
    return found


def _compare_schemas(old: SpecSet, new: SpecSet) -> Iterable[Change]:
    usages = _usages(old)
    old_schemas = {s.class_name: s for s in old.schemas}
    new_schemas = {s.class_name: s for s in new.schemas}
    for name, before, after in _pairs(old_schemas, new_schemas):
        where = f"models.{name}"
        if before is None:
            assert after is not None
            yield Change(where, "model added" if after.variant is None else "variant added", False)
        elif after is None:
            yield Change(
                where, "model removed" if before.variant is None else "variant removed", True
            )
        else:
            if before.description != after.description:
                yield Change(where, "description changed", False)
            old_fields = {f.name: f for f in before.fields}
            new_fields = {f.name: f for f in after.fields}
            for field_name, old_field, new_field in _pairs(old_fields, new_fields):
                yield from _compare_fields(
                    f"{where}.fields.{field_name}", old_field, new_field, usages[name]
                )


def _compare_fields(
    where: str, old: Optional[Field], new: Optional[Field], usage: _Usage
) -> Iterable[Change]:
    if new is None:
        yield Change(where, "field removed", True)
        return
    if old is None:
        if new.required:
            yield Change(where, "required field added", usage.sent)
        else:
            yield Change(where, "optional field added", False)
        return
    change = _value_change(old.type, new.type, old.constraints, new.constraints)
    if change != SAME:
        breaking = (
            change == CHANGED
            or (change == NARROWED and usage.sent)
            or (change == WIDENED and usage.received)
        )
        yield Change(where, _describe_type_change(change, old.type, new.type), breaking)
    if old.required != new.required:
        yield Change(
            where,
            "made required" if new.required else "no longer required",
            new.required and usage.sent,
        )
    if old.optional != new.optional:
        yield Change(
            where,
            "made nullable" if new.optional else "no longer nullable",
            new.optional and usage.received,
        )
    if old.admin_only != new.admin_only:
        # A client without the admin role that sends the field now gets 403.
        yield Change(
            where,
            "made admin_only" if new.admin_only else "no longer admin_only",
            new.admin_only and usage.sent,
        )
    if old.default != new.default:
        yield Change(where, "default changed", False)
    if old.description != new.description:
        yield Change(where, "description changed", False)


# ---------------------------------------------------------------------------- events


def _compare_events(old: SpecSet, new: SpecSet) -> Iterable[Change]:
    old_events = {e.name: e for e in old.events}
    new_events = {e.name: e for e in new.events}
    for name, before, after in _pairs(old_events, new_events):
        where = f"events.{name}"
        if after is None:
            yield Change(where, "event removed", True)
        elif before is None:
            yield Change(where, "event added", False)
        else:
            yield from _compare_event(where, before, after)


def _compare_event(where: str, old: Event, new: Event) -> Iterable[Change]:
    if old.message != new.message:
        yield Change(where, f"message changed: {old.message} -> {new.message}", True)
    for direction in ("publish", "subscribe"):
        before, after = getattr(old, direction), getattr(new, direction)
        if before != after:
            yield Change(where, f"{direction} {'enabled' if after else 'disabled'}", before)
    if old.description != new.description:
        yield Change(where, "description changed", False)


# ---------------------------------------------------------------------------- domains


def _compare_domains(old: SpecSet, new: SpecSet) -> Iterable[Change]:
    old_domains = {(d.service, d.name): d for d in old.domains}
    new_domains = {(d.service, d.name): d for d in new.domains}
    for (service, name), before, after in _pairs(old_domains, new_domains):
        if before is None:
            assert after is not None
            yield Change(f"{service}.{name}", f"domain added ({after.file})", False)
        elif after is None:
            yield Change(f"{service}.{name}", f"domain removed ({before.file})", True)
        else:
            yield from _compare_domain(before, after)


def _compare_domain(old: Domain, new: Domain) -> Iterable[Change]:
    if old.prefix != new.prefix:
        yield Change(
            f"{new.service}.{new.name}",
            f"route prefix changed: {old.prefix!r} -> {new.prefix!r}",
            True,
        )
    for profile in sorted(set(old.profiles) ^ set(new.profiles)):
        # An app of a profile that no longer serves the domain answers its routes with 404.
        served = profile in new.profiles
        yield Change(
            f"{new.service}.{new.name}",
            f"{'now' if served else 'no longer'} served in the {profile} profile",
            not served,
        )
    old_operations = {o.name: o for o in old.operations}
    new_operations = {o.name: o for o in new.operations}
    for name, before, after in _pairs(old_operations, new_operations):
        where = f"{new.service}.{new.name}.{name}"
        if after is None:
            yield Change(where, "operation removed", True)
        elif before is None:
            yield Change(where, "operation added", False)
        else:
            yield from _compare_operation(where, before, after)


def _compare_operation(where: str, old: Operation, new: Operation) -> Iterable[Change]:
    if old.input != new.input:
        yield Change(where, f"input changed: {old.input} -> {new.input}", True)
    if old.output != new.output:
        yield Change(where, f"output changed: {_output_text(old)} -> {_output_text(new)}", True)
    yield from _compare_rest(where, old, new)
    if old.rest is not None and new.rest is not None:
        change = access_change(old.access, new.access)
        if change != SAME:
            yield Change(
                where,
                f"auth {change}: {access_text(old.access)} -> {access_text(new.access)}",
                change != WIDENED,
            )
    for kind in ("subscribe", "publish_on_success", "publish_on_error"):
        before, after = getattr(old.events, kind), getattr(new.events, kind)
        if before != after:
            # Whoever relied on the old event (publishing to or consuming from it) is cut off.
            yield Change(where, f"events.{kind} changed: {before} -> {after}", before is not None)
    old_params = {p.name: p for p in old.params}
    new_params = {p.name: p for p in new.params}
    for name, before, after in _pairs(old_params, new_params):
        yield from _compare_param(f"{where}.params.{name}", before, after)
    if old.description != new.description:
        yield Change(where, "description changed", False)


def _output_text(operation: Operation) -> str:
    schema = operation.output.schema or "no body"
    return f"list[{schema}]" if operation.output.is_list else schema


def _compare_rest(where: str, old: Operation, new: Operation) -> Iterable[Change]:
    if old.rest is None or new.rest is None:
        if old.rest != new.rest:
            yield Change(
                where,
                "rest route added" if old.rest is None else "rest route removed",
                old.rest is not None,
            )
        return
    if (old.rest.method, old.rest.path) != (new.rest.method, new.rest.path):
        route = f"{old.rest.method} {old.rest.path!r} -> {new.rest.method} {new.rest.path!r}"
        yield Change(where, f"route changed: {route}", True)
    if old.rest.status != new.rest.status:
        yield Change(where, f"status changed: {old.rest.status} -> {new.rest.status}", True)
    if old.rest.if_match != new.rest.if_match:
        if new.rest.if_match == "required":
            yield Change(where, "If-Match required: a client that sends none gets 428", True)
        else:
            taken = "If-Match no longer read" if new.rest.if_match is None else "If-Match optional"
            yield Change(where, taken, False)


def _compare_param(where: str, old: Optional[Param], new: Optional[Param]) -> Iterable[Change]:
    if new is None:
        yield Change(where, "parameter removed", True)
        return
    if old is None:
        yield Change(
            where,
            "required parameter added" if new.required else "optional parameter added",
            new.required,
        )
        return
    if old.source != new.source:
        yield Change(where, f"moved from {old.source} to {new.source}", True)
    change = _value_change(old.type, new.type, old.constraints, new.constraints)
    if change != SAME:
        # Clients only send parameters: a wider parameter is always safe.
        yield Change(
            where,
            _describe_type_change(change, old.type, new.type),
            change in (NARROWED, CHANGED),
        )
    if old.required != new.required:
        yield Change(
            where,
            "made required" if new.required else "no longer required",
            new.required,
        )
    if old.default != new.default:
        yield Change(where, "default changed", False)
    if old.description != new.description:
        yield Change(where, "description changed", False)


def access_change(old: Access, new: Access) -> str:
    """SAME, WIDENED (admits every caller the old rule did, and more), NARROWED or CHANGED."""
    widened, narrowed = _admits_all(new, old), _admits_all(old, new)
    if widened and narrowed:
        return SAME  # the same callers, written differently (role order)
    if widened:
        return WIDENED
    return NARROWED if narrowed else CHANGED


def _admits_all(wider: Access, narrower: Access) -> bool:
    """Whether `wider` admits every caller `narrower` admits (see ir.Access)."""
    if wider.public or narrower.public:
        return wider.public
    if _any_signed_in(wider) or _any_signed_in(narrower):
        return _any_signed_in(wider)
    # A caller is admitted by a role or as the owner: each way `narrower` has, `wider` needs too.
    owner_kept = narrower.owner is None or narrower.owner == wider.owner
    return set(narrower.roles) <= set(wider.roles) and owner_kept


def _any_signed_in(access: Access) -> bool:
    return not access.public and not access.roles and access.owner is None


def access_text(access: Access) -> str:
    """The rule as a spec writes it: public, user, admin, [admin, service], {roles: [admin], owner: id}."""
    if access.public:
        return "public"
    roles = f"[{', '.join(access.roles)}]"
    if access.owner is not None:
        return (
            f"{{roles: {roles}, owner: {access.owner}}}"
            if access.roles
            else f"{{owner: {access.owner}}}"
        )
    if not access.roles:
        return "user"
    return access.roles[0] if len(access.roles) == 1 else roles


# ---------------------------------------------------------------------------- storage


def _compare_storage(old: SpecSet, new: SpecSet) -> Iterable[Change]:
    """What the existing rows of each stored model's table cannot follow."""
    old_stored = _stored(old)
    new_stored = _stored(new)
    for (service, model), before, after in _pairs(old_stored, new_stored):
        where = f"{service}.storage.{model}"
        if before is None:
            assert after is not None
            yield Change(where, f"table {after.table} added", False)
        elif after is None or before.table != after.table:
            yield Change(
                where,
                f"table {before.table} dropped with its rows"
                + (f" (now {after.table}: rename it in the migration)" if after else ""),
                True,
            )
        else:
            yield from _compare_columns(where, before, after, old.schema(model), new.schema(model))


def _stored(spec: SpecSet) -> Dict[Tuple[str, str], Storage]:
    return {(d.service, s.model): s for d in spec.domains for s in d.storage}


def _compare_columns(
    where: str, old: Storage, new: Storage, old_model: Schema, new_model: Schema
) -> Iterable[Change]:
    old_fields = {f.name: f for f in old_model.fields}
    new_fields = {f.name: f for f in new_model.fields}
    for name, before, after in _pairs(old_fields, new_fields):
        column = f"{where}.{name}"
        if after is None:
            yield Change(column, f"column {old.table}.{name} dropped with its data", True)
        elif before is None:
            if not after.optional and not _filled_by_database(after, new):
                yield Change(
                    column,
                    f"NOT NULL column {new.table}.{name} added without a default: the rows "
                    "already there have no value (add it nullable, backfill, then set NOT NULL, "
                    "or give it a default)",
                    True,
                )
            else:
                yield Change(column, f"column {new.table}.{name} added", False)
        else:
            change = _value_change(before.type, after.type, before.constraints, after.constraints)
            if change in (NARROWED, CHANGED) and _column_type_narrowed(before, after):
                yield Change(
                    column,
                    f"column {new.table}.{name} narrowed: ALTER COLUMN ... TYPE fails on rows "
                    "that do not fit (migrate them first)",
                    True,
                )
            if before.optional and not after.optional:
                yield Change(
                    column,
                    f"column {new.table}.{name} made NOT NULL: rows holding null must get a "
                    "value first (UPDATE, then ALTER COLUMN ... SET NOT NULL)",
                    True,
                )
    for fields in set(new.unique) - set(old.unique):
        yield Change(
            f"{where}.unique",
            f"unique ({', '.join(fields)}) added: fails where rows already repeat",
            True,
        )


def _filled_by_database(field: Field, storage: Storage) -> bool:
    """Whether the column gets a server default (a list or dict default is the API's only)."""
    scalar_default = field.default is not MISSING and not isinstance(field.default, (list, dict))
    return (
        scalar_default
        or implied_default(field.type) is not MISSING
        or field.name in storage.set_now_on_create
        or field.name == storage.version
    )


def _column_type_narrowed(old: Field, new: Field) -> bool:
    """Whether the column's type holds less: another type, or a shorter varchar. Bounds such as
    `ge` are the API's (no CHECK constraint), so they leave the rows alone."""
    if old.type != new.type and not (type(new.type) is OptionalType and new.type.of == old.type):
        return True
    old_length = dict(old.constraints).get("max_length")
    new_length = dict(new.constraints).get("max_length")
    return new_length is not None and (old_length is None or new_length < old_length)


# ---------------------------------------------------------------------------- helpers


def _pairs(old: Mapping[K, V], new: Mapping[K, V]) -> Iterable[Tuple[K, Optional[V], Optional[V]]]:
    """(key, old value or None, new value or None) for every key of either, old order first."""
    for key in [*old, *(k for k in new if k not in old)]:
        yield key, old.get(key), new.get(key)
