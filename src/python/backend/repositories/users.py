"""Users table access."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.orm import BIGINT_MAX, UserRecord

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class TelegramIdTaken(Exception):
    """Another user has this telegram_id."""


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> UserRecord:
        user = UserRecord(**values)
        self.session.add(user)
        await self._flush()
        return user

    async def get(self, user_id: int) -> UserRecord | None:
        if not 0 < user_id <= BIGINT_MAX:  # ids are positive bigints: no such row, and no query
            return None
        return await self.session.get(UserRecord, user_id)

    async def list(self, *, limit: int, offset: int) -> Sequence[UserRecord]:
        if offset > BIGINT_MAX:  # beyond any table PostgreSQL can hold
            return []
        result = await self.session.scalars(
            select(UserRecord).order_by(UserRecord.id).limit(limit).offset(offset)
        )
        return result.all()

    async def update(self, user_id: int, **changes: Any) -> UserRecord | None:
        """The updated user, or None if there is no such user (perhaps deleted meanwhile).

        One UPDATE ... RETURNING: a concurrent DELETE makes it match no row, never half-apply.
        """
        if not 0 < user_id <= BIGINT_MAX:
            return None
        statement = (
            update(UserRecord)
            .where(UserRecord.id == user_id)
            .values(**changes)
            .returning(UserRecord)
        )
        try:
            user = (await self.session.scalars(statement)).one_or_none()
        except IntegrityError as error:
            raise _integrity_error(error) from error
        return user

    async def delete(self, user_id: int) -> bool:
        """Whether this call deleted the user: of concurrent deletes of one user, exactly one does."""
        if not 0 < user_id <= BIGINT_MAX:
            return False
        statement = delete(UserRecord).where(UserRecord.id == user_id).returning(UserRecord.id)
        return (await self.session.scalars(statement)).one_or_none() is not None

    async def _flush(self) -> None:
        """Writes pending changes; the telegram_id unique constraint becomes TelegramIdTaken.

        The constraint, not a prior SELECT, decides: it also holds between concurrent requests.
        """
        try:
            await self.session.flush()
        except IntegrityError as error:
            raise _integrity_error(error) from error


def _integrity_error(error: IntegrityError) -> Exception:
    """TelegramIdTaken for the unique constraint, `error` itself for any other."""
    return TelegramIdTaken() if getattr(error.orig, "sqlstate", None) == UNIQUE_VIOLATION else error
