"""The users domain (generated.backend.users.UsersController) over the users table.

Storage is generated from the spec (generated.backend.storage.users): its repository answers a
missing user with 404, a telegram_id already taken with 409 and an update without fields with 400.
"""

from __future__ import annotations

from generated.backend.storage.users import UserRepository
from generated.models import UserCreate, UserRead, UserUpdate
from servicekit.auth import Principal


class UsersService:
    """One request's changes through `users`: the router commits them with their events, or they
    roll back when a method raises. The router has checked the caller (`principal`) against the
    spec's auth, admin-only fields included, before any method runs."""

    def __init__(self, users: UserRepository) -> None:
        self.users = users

    async def create_user(self, body: UserCreate, principal: Principal) -> UserRead:
        return UserRead.model_validate(await self.users.create(body))

    async def list_users(self, limit: int, offset: int, principal: Principal) -> list[UserRead]:
        users = await self.users.list(limit=limit, offset=offset)
        return [UserRead.model_validate(user) for user in users]

    async def get_user(self, user_id: int, principal: Principal) -> UserRead:
        return UserRead.model_validate(await self.users.get(user_id))

    async def update_user(self, body: UserUpdate, user_id: int, principal: Principal) -> UserRead:
        return UserRead.model_validate(await self.users.update(user_id, body))

    async def delete_user(self, user_id: int, principal: Principal) -> None:
        await self.users.delete(user_id)
