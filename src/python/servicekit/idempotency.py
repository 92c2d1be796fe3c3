"""Idempotency keys (the IETF httpapi draft's `Idempotency-Key` header): a client that sends a
key may send the same request again, after a lost answer or a dead replica, and get the first
answer back instead of a second change.

A generated route whose operation takes keys claims the key in the request's own transaction
before its controller runs, and stores its answer in that transaction before the commit: the key,
the change and its outbox rows commit together or not at all. A key is scoped to the caller (the
token's subject); the request it was first used with is kept as a hash of the operation, its
parameters and its body.

- first use: the route runs, and its answer is stored;
- a repeat of a committed request: the stored status and body (`Idempotent-Replayed: true`), and
  no new change or event;
- the same key with another request: 422;
- a repeat while the first still runs: waits for it (at most `wait_seconds`), then 409 with
  Retry-After;
- a failed request (its transaction rolled back) leaves no key: a repeat runs again.

Keys expire after `ttl` (a repeat then runs again); `purge_expired` deletes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from fastapi import Response

from servicekit.auth.tokens import Principal

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TABLE_NAME = "idempotency_keys"
# Visible ASCII: a UUID, a ULID or a client's own scheme; never a line break into a log line.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait
PURGE_BATCH = 1000


class MalformedIdempotencyKey(ValueError):
    """An Idempotency-Key that is not 1 to 255 visible ASCII characters (400)."""


class MissingIdempotencyKey(ValueError):
    """An operation that requires a key got none (400, as the draft says)."""


class IdempotencyKeyReused(ValueError):
    """The key was first used with another request (422)."""


class IdempotencyKeyInUse(Exception):
    """The request first sent with the key still runs (409 with Retry-After)."""


def idempotency_table(metadata: MetaData) -> Table:
    """The keys' table in a service's metadata (and so in its migrations), made once."""
    existing = metadata.tables.get(TABLE_NAME)
    if existing is not None:
        return existing
    table = Table(
        TABLE_NAME,
        metadata,
        Column("scope", Text(), primary_key=True),  # the caller's subject; "" when anonymous
        Column("key", Text(), primary_key=True),
        Column("request_hash", Text(), nullable=False),
        # Set with the answer before the commit: a committed row always has them.
        Column("status", Integer(), nullable=True),
        Column("body", Text(), nullable=True),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    Index(None, table.c.expires_at)  # what purge_expired scans
    return table


@dataclass(frozen=True)
class IdempotencyKeys:
    """Where a service keeps its keys, and for how long."""

    table: Table
    ttl: timedelta = timedelta(hours=24)
    wait_seconds: float = 10.0

    async def claim(
        self, session: AsyncSession, scope: str, key: str, fingerprint: str
    ) -> Response | None:
        """Claims `key` for a request with `fingerprint`; the first answer when it is a repeat."""
        table = self.table
        # A duplicate's insert waits for the first request's transaction: bounded, and only here.
        await session.execute(text(f"SET LOCAL lock_timeout = {int(self.wait_seconds * 1000)}"))
        expires_at = func.now() + self.ttl
        claim = (
            insert(table)
            .values(scope=scope, key=key, request_hash=fingerprint, expires_at=expires_at)
            .on_conflict_do_update(  # an expired key is claimed afresh
                index_elements=[table.c.scope, table.c.key],
                set_={
                    "request_hash": fingerprint,
                    "status": None,
                    "body": None,
                    "expires_at": expires_at,
                },
                where=table.c.expires_at < func.now(),
            )
            .returning(table.c.key)
        )
        try:
            claimed = (await session.execute(claim)).first() is not None
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInUse(
                    f"a request with this {HEADER} is still being handled; retry later"
                ) from None
            raise
        await session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
        if claimed:
            return None
        stored = (
            await session.execute(
                select(table.c.request_hash, table.c.status, table.c.body).where(
                    table.c.scope == scope, table.c.key == key
                )
            )
        ).first()
        if stored is None or stored.status is None:  # purged or not committed in between
            raise IdempotencyKeyInUse(f"the request with this {HEADER} is unsettled; retry")
        if stored.request_hash != fingerprint:
            raise IdempotencyKeyReused(f"this {HEADER} was used for another request")
        return Response(
            content=stored.body,
            status_code=stored.status,
            media_type=None if stored.body is None else "application/json",
            headers={REPLAYED_HEADER: "true"},
        )

    async def purge_expired(self, session: AsyncSession) -> int:
        """Deletes up to PURGE_BATCH expired keys (commits); how many it deleted."""
        table = self.table
        expired = (
            select(table.c.scope, table.c.key)
            .where(table.c.expires_at < func.now())
            .limit(PURGE_BATCH)
        )
        # Expired again in the outer WHERE: a key claimed afresh while the DELETE waited for its
        # row lock is re-checked there (PostgreSQL re-evaluates it), and kept.
        result = await session.execute(
            delete(table).where(
                tuple_(table.c.scope, table.c.key).in_(expired), table.c.expires_at < func.now()
            )
        )
        await session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim_key(
    unit: Any,
    header: str | None,
    principal: Principal | None,
    operation: str,
    request: Mapping[str, Any],
    *,
    required: bool,
) -> Claim:
    """A route's claim on the Idempotency-Key `header`, in the unit of work's session with its
    keys: the first answer to send again (a repeat), or where to store this request's answer."""
    keys: IdempotencyKeys | None = getattr(unit, "idempotency", None)
    if keys is None:  # a wiring mistake: fails the service's first test, not a client's retry
        raise RuntimeError(
            f"{operation} takes an {HEADER}, but the unit of work keeps no keys: give it "
            "idempotency=IdempotencyKeys(idempotency_table(<the service's metadata>))"
        )
    if header is None:
        if required:
            raise MissingIdempotencyKey(f"this operation needs an {HEADER} header")
        return Claim(None, unit.session, "", None)
    if not _KEY.fullmatch(header):
        raise MalformedIdempotencyKey(
            f"{HEADER}: expected 1 to 255 visible ASCII characters, such as a UUID"
        )
    scope = principal.subject if principal is not None else ""
    replay = await keys.claim(unit.session, scope, header, request_hash(operation, request))
    return Claim(keys, unit.session, scope, header, replay)


@dataclass
class Claim:
    """A request's hold on its key: `replay` is the first answer to send again, if there is one;
    otherwise `answered` stores this request's answer (nothing when it sent no key)."""

    keys: IdempotencyKeys | None
    session: AsyncSession
    scope: str
    key: str | None
    replay: Response | None = None

    async def answered(self, status: int, result: Any) -> None:
        if self.keys is None or self.key is None:
            return
        table = self.keys.table
        body = None if result is None else json.dumps(jsonable_encoder(result))
        await self.session.execute(
            update(table)
            .where(table.c.scope == self.scope, table.c.key == self.key)
            .values(status=status, body=body)
        )


def request_hash(operation: str, request: Mapping[str, Any]) -> str:
    """What identifies a request: its operation, parameters and the body fields it sent (unset
    ones left out: a field the server adds a default for changes no client's request)."""
    canonical = json.dumps(
        {"operation": operation, "request": jsonable_encoder(request, exclude_unset=True)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
