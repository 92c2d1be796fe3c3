"""The benchmark's baseline: GET /users/{id} and POST /users written by hand, doing the backend's work
(a session per request, a unique telegram_id answered with 409, user_registered published on Redis).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from faststream.redis import RedisBroker
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from backend.db import async_driver_url
from backend.orm import Base, UserRecord


class NewUser(BaseModel):
    telegram_id: int = Field(ge=0)
    is_admin: bool = False


class StoredUser(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    telegram_id: int
    is_admin: bool
    created_at: datetime
    updated_at: datetime


def create_handwritten_app(database_url: str, redis_url: str, pool_size: int) -> FastAPI:
    engine = create_async_engine(
        async_driver_url(database_url), pool_size=pool_size, max_overflow=pool_size
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    broker = RedisBroker(redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await broker.connect()
        yield
        await broker.stop()
        await engine.dispose()

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    app = FastAPI(lifespan=lifespan)

    @app.post("/users", status_code=201, response_model=StoredUser)
    async def create_user(
        body: NewUser, session: Annotated[AsyncSession, Depends(get_session)]
    ) -> StoredUser:
        user = UserRecord(**body.model_dump())
        session.add(user)
        try:
            await session.commit()
        except IntegrityError:
            raise HTTPException(
                409, f"telegram_id {body.telegram_id} is already registered"
            ) from None
        created = StoredUser.model_validate(user)
        event: dict[str, Any] = {
            "id": created.id,
            "telegram_id": created.telegram_id,
            "created_at": created.created_at.isoformat(),
        }
        await broker.publish(event, stream="events.user_registered")
        return created

    @app.get("/users/{user_id}", response_model=StoredUser)
    async def get_user(
        user_id: int, session: Annotated[AsyncSession, Depends(get_session)]
    ) -> StoredUser:
        user = await session.get(UserRecord, user_id)
        if user is None:
            raise HTTPException(404, f"user {user_id} not found")
        return StoredUser.model_validate(user)

    return app
