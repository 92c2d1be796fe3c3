"""ORM models: the tables the backend owns. Alembic migrations (migrations/versions) create them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, MetaData, false, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.events.outbox import outbox_table

# PostgreSQL's bigint, the type of every integer column below.
BIGINT_MAX = 2**63 - 1


class Base(DeclarativeBase):
    # Deterministic constraint names, so migrations can refer to them and autogenerate compares them.
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


class UserRecord(Base):
    __tablename__ = "users"
    # Server-side defaults come back in INSERT/UPDATE ... RETURNING: no lazy load after a write.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    is_admin: Mapped[bool] = mapped_column(server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# Events waiting for Redis (servicekit.events.outbox).
EVENT_OUTBOX = outbox_table(Base.metadata)
