"""The users domain (generated.backend.users.UsersController) over the users table."""

from __future__ import annotations

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.orm import BIGINT_MAX, UserRecord
from backend.repositories.users import TelegramIdTaken, UserRepository
from generated.models import UserCreate, UserRead, UserUpdate
from servicekit.auth import Principal


class UsersService:
    """One request's changes in `session`: the router commits them with their events, or they
    roll back when a method raises. The router has checked the caller (`principal`) against the
    spec's auth, admin-only fields included, before any method runs."""

    def __init__(self, session: AsyncSession) -> None:
        self.users = UserRepository(session)

    async def create_user(self, body: UserCreate, principal: Principal) -> UserRead:
        _check_storable(body.telegram_id)
        try:
            user = await self.users.add(**body.model_dump())
        except TelegramIdTaken:
            raise _telegram_id_taken(body.telegram_id) from None
        return UserRead.model_validate(user)

    async def list_users(self, limit: int, offset: int, principal: Principal) -> list[UserRead]:
        return [
            UserRead.model_validate(user)
            for user in await self.users.list(limit=limit, offset=offset)
        ]

    async def get_user(self, user_id: int, principal: Principal) -> UserRead:
        return UserRead.model_validate(await self._existing(user_id))

    async def update_user(self, body: UserUpdate, user_id: int, principal: Principal) -> UserRead:
        # Only fields the client sent, and null means "leave as is": the columns are NOT NULL.
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        if not changes:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "the update sets no field")
        if "telegram_id" in changes:
            _check_storable(changes["telegram_id"])
        try:
            user = await self.users.update(user_id, **changes)
        except TelegramIdTaken:
            raise _telegram_id_taken(changes["telegram_id"]) from None
        if user is None:
            raise _not_found(user_id)
        return UserRead.model_validate(user)

    async def delete_user(self, user_id: int, principal: Principal) -> None:
        if not await self.users.delete(user_id):
            raise _not_found(user_id)

    async def _existing(self, user_id: int) -> UserRecord:
        user = await self.users.get(user_id)
        if user is None:
            raise _not_found(user_id)
        return user


def _check_storable(telegram_id: int) -> None:
    """The spec bounds telegram_id only below; above the column's range it is a validation error."""
    if telegram_id > BIGINT_MAX:
        raise RequestValidationError(
            [
                {
                    "type": "less_than_equal",
                    "loc": ("body", "telegram_id"),
                    "msg": f"Input should be less than or equal to {BIGINT_MAX}",
                    "input": telegram_id,
                    "ctx": {"le": BIGINT_MAX},
                }
            ]
        )


def _not_found(user_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")


def _telegram_id_taken(telegram_id: int) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT, f"telegram_id {telegram_id} is already registered"
    )
