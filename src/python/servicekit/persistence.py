"""What the tables and repositories generated from a domain's `storage:` run on.

`generated.<service>.storage.<domain>` declares one SQLAlchemy class per stored model on
`service_base(<service>)` (one metadata per service, whichever domain declares the table) and a
`Repository` subclass that says which class, key and constraints it works with. The repository
works in the caller's session (the unit of work commits) and reports what a client can act on as
typed errors, which `servicekit.errors` answers with the spec's statuses: `NotFound` 404,
`Conflict` 409, `NothingToUpdate` 400, `InvalidValue` 422 and `PreconditionFailed` 412.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NoReturn, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, MetaData, delete, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from servicekit.preconditions import IfMatch, entity_tag

if TYPE_CHECKING:  # a type only: persistence runs without the HTTP side's imports
    from servicekit.idempotency import IdempotencyKeys

# PostgreSQL's bigint, the column type of every int field.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Deterministic constraint names: migrations refer to them, autogenerate compares them, and a
# violation names its constraint, which names the fields.
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}
UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION = "23505", "23503"  # PostgreSQL's SQLSTATEs

_bases: dict[str, type[DeclarativeBase]] = {}


def async_driver_url(url: str) -> str:
    """`url` with SQLAlchemy's asyncpg driver, whichever PostgreSQL scheme it was given with."""
    _, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}"


def service_base(service: str) -> type[DeclarativeBase]:
    """The declarative base of `service`'s tables: the same for every module that asks."""
    base = _bases.get(service)
    if base is None:
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
        name = service.title().replace("_", "") + "Base"
        base = type(name, (DeclarativeBase,), {"metadata": metadata})
        _bases[service] = base
    return base


class SessionUnitOfWork:
    """The unit of work of a service with a database and no event outbox: the generated routes
    commit the controller's changes, or roll them back."""

    def __init__(self, session: AsyncSession, idempotency: IdempotencyKeys | None = None) -> None:
        self.session = session
        self.idempotency = idempotency  # where routes that take Idempotency-Key keep them

    def publish(self, channel: Any, message: Any) -> None:
        raise ValueError(f"no event outbox to publish {channel.name} in")

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class NotFound(LookupError):
    """No row has the key (perhaps deleted meanwhile)."""


class Conflict(Exception):
    """A unique key already taken, or a row that others still refer to."""


class PreconditionFailed(Exception):
    """The row has changed since the client read it: its version is not one If-Match names."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class NothingToUpdate(ValueError):
    """An update that sets no field."""


class InvalidValue(ValueError):
    """A body value the database cannot hold: `field` is the body field it came from."""

    def __init__(self, field: str, message: str, kind: str) -> None:
        super().__init__(message)
        self.field, self.kind = field, kind


R = TypeVar("R", bound=DeclarativeBase)


class Repository(Generic[R]):
    """get, list, create, update and delete of one table's rows, by primary key.

    Each write is one statement whose constraints decide (no SELECT first), so concurrent
    requests cannot slip between a check and a write.
    """

    record: ClassVar[type[Any]]
    noun: ClassVar[str]  # "user", for messages
    key: ClassVar[str]  # the primary key's field
    int_fields: ClassVar[frozenset[str]] = frozenset()  # bigint columns
    text_fields: ClassVar[frozenset[str]] = frozenset()  # text and varchar columns
    nullable_fields: ClassVar[frozenset[str]] = frozenset()
    # The int field every update here counts up (storage `version`), if any
    version: ClassVar[str | None] = None
    # Field holding a reference -> the noun of the row it refers to
    references: ClassVar[Mapping[str, str]] = {}
    _constraint_names: ClassVar[dict[str, tuple[str, ...]]]  # by _constraint_fields

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, key: Any) -> R | None:
        if not self._storable_key(key):  # no such row, and no query
            return None
        row: R | None = await self.session.get(self.record, key)
        return row

    async def get(self, key: Any) -> R:
        row = await self.find(key)
        if row is None:
            raise self._not_found(key)
        return row

    async def list(self, *, limit: int, offset: int) -> Sequence[R]:
        """A page of rows in primary key order, so pages neither repeat nor skip a row."""
        if offset > BIGINT_MAX:  # beyond any table PostgreSQL can hold
            return []
        column = getattr(self.record, self.key)
        statement = select(self.record).order_by(column).limit(limit).offset(offset)
        return (await self.session.scalars(statement)).all()

    async def create(self, body: BaseModel | Mapping[str, Any]) -> R:
        values = body.model_dump() if isinstance(body, BaseModel) else dict(body)
        self._check_storable(values)
        row = self.record(**values)
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError as error:
            self._raise_violation(error, values)
        return row  # type: ignore[no-any-return]

    async def update(
        self, key: Any, body: BaseModel | Mapping[str, Any], if_match: IfMatch | None = None
    ) -> R:
        """Sets the fields the client sent; null leaves a NOT NULL column as it is. With
        `if_match`, only a row at one of its versions changes (else PreconditionFailed).

        One UPDATE ... RETURNING: a concurrent DELETE or update makes it match no row, never
        half-apply.
        """
        sent = body.model_dump(exclude_unset=True) if isinstance(body, BaseModel) else body
        changes = {
            name: value
            for name, value in sent.items()
            if value is not None or name in self.nullable_fields
        }
        if not changes:
            raise NothingToUpdate("the update sets no field")
        self._check_storable(changes)
        if not self._storable_key(key):
            raise self._not_found(key)
        column = getattr(self.record, self.key)
        values = dict(changes)
        if self.version is not None:
            values[self.version] = getattr(self.record, self.version) + 1
        statement = (
            update(self.record)
            .where(column == key, *self._version_matches(if_match))
            .values(**values)
            .returning(self.record)
        )
        try:
            row: R | None = (await self.session.scalars(statement)).one_or_none()
        except IntegrityError as error:
            self._raise_violation(error, changes)
        if row is None:
            raise await self._missing(key, if_match)
        return row

    async def delete(self, key: Any, if_match: IfMatch | None = None) -> None:
        """Of concurrent deletes of one row, exactly one succeeds; the others get NotFound. With
        `if_match`, only a row at one of its versions goes (else PreconditionFailed)."""
        if not self._storable_key(key):
            raise self._not_found(key)
        column = getattr(self.record, self.key)
        statement = (
            delete(self.record)
            .where(column == key, *self._version_matches(if_match))
            .returning(column)
        )
        try:
            deleted = (await self.session.scalars(statement)).one_or_none()
        except IntegrityError as error:
            if _sqlstate(error) == FOREIGN_KEY_VIOLATION:
                raise Conflict(f"{self.noun} {key} is still referred to") from error
            raise
        if deleted is None:
            raise await self._missing(key, if_match)

    def _version_matches(self, if_match: IfMatch | None) -> tuple[ColumnElement[bool], ...]:
        """The WHERE conditions of a write under `if_match`: none without one, or for `*`."""
        if if_match is None or if_match.any:
            return ()
        if self.version is None:
            raise TypeError(f"{self.noun} rows have no version to compare with If-Match")
        if not if_match.versions:  # only weak or foreign tags: nothing matches
            return (false(),)
        return (getattr(self.record, self.version).in_(if_match.versions),)

    async def _missing(self, key: Any, if_match: IfMatch | None) -> Exception:
        """Why a write under `if_match` matched no row: the row is gone (NotFound) or at
        another version, which the client is told (PreconditionFailed)."""
        if if_match is None or if_match.any or self.version is None:
            return self._not_found(key)
        column = getattr(self.record, self.key)
        current = await self.session.scalar(
            select(getattr(self.record, self.version)).where(column == key)
        )
        if current is None:
            return self._not_found(key)
        return PreconditionFailed(
            f"{self.noun} {_show(key)} has changed: it is at version {current}, "
            f"ETag {entity_tag(current)}",
            current,
        )

    def _storable_key(self, key: Any) -> bool:
        return self.key not in self.int_fields or BIGINT_MIN <= key <= BIGINT_MAX

    def _not_found(self, key: Any) -> NotFound:
        # A key no column can hold is not repeated: it may be thousands of digits long.
        shown = f" {_show(key)}" if self._storable_key(key) and len(str(key)) <= 100 else ""
        return NotFound(f"{self.noun}{shown} not found")

    def _check_storable(self, values: Mapping[str, Any]) -> None:
        """What PostgreSQL refuses, refused first as the client's mistake (422), not a 500."""
        for name, value in values.items():
            if isinstance(value, str) and name in self.text_fields and "\x00" in value:
                raise InvalidValue(name, "Text cannot contain the NUL character", "string_nul")
            if isinstance(value, datetime):
                try:
                    value.astimezone(timezone.utc)  # what the driver sends
                except OverflowError:
                    raise InvalidValue(
                        name, "Datetime is out of range in UTC", "datetime_range"
                    ) from None
        for name in self.int_fields.intersection(values):
            value = values[name]
            if value is None:
                continue
            if value > BIGINT_MAX:
                raise InvalidValue(
                    name, f"Input should be less than or equal to {BIGINT_MAX}", "less_than_equal"
                )
            if value < BIGINT_MIN:
                raise InvalidValue(
                    name,
                    f"Input should be greater than or equal to {BIGINT_MIN}",
                    "greater_than_equal",
                )

    def _raise_violation(self, error: IntegrityError, values: Mapping[str, Any]) -> NoReturn:
        """Raises what the constraint that refused the write means to the client; `error` itself
        for a constraint the spec did not declare (a bug, not the client's doing)."""
        state, constraint = _sqlstate(error), _constraint(error)
        if state == UNIQUE_VIOLATION:
            fields = self._constraint_fields(constraint)
            if fields:
                taken = ", ".join(f"{name} {_show(values.get(name))}" for name in fields)
                raise Conflict(f"another {self.noun} has {taken}") from error
        if state == FOREIGN_KEY_VIOLATION:
            field = next(iter(self._constraint_fields(constraint)), "")
            if field in self.references:
                message = f"no {self.references[field]} {_show(values.get(field))}"
                raise InvalidValue(field, message, "missing_reference") from error
        raise error

    @classmethod
    def _constraint_fields(cls, constraint: str) -> tuple[str, ...]:
        """The fields of the table's constraint named `constraint` as PostgreSQL names it: a name
        over 63 characters is shortened (with a hash) when the table is created."""
        names = cls.__dict__.get("_constraint_names")
        if names is None:
            preparer = postgresql.dialect().identifier_preparer
            names = {
                (preparer.format_constraint(candidate) or "").strip('"'): tuple(
                    column.name for column in candidate.columns
                )
                for candidate in cls.record.__table__.constraints
                if candidate.name is not None
            }
            cls._constraint_names = names
        fields: tuple[str, ...] = names.get(constraint, ())
        return fields


def _show(value: Any) -> str:
    """A value in a message: strings quoted, keys and numbers as they are written."""
    return repr(value) if isinstance(value, str) else str(value)


def _sqlstate(error: IntegrityError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _constraint(error: IntegrityError) -> str:
    """The violated constraint's name, which asyncpg's exception carries (SQLAlchemy's adapter
    keeps it as the cause); "" when there is none."""
    return getattr(getattr(error.orig, "__cause__", None), "constraint_name", None) or ""
