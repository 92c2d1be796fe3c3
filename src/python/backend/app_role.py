"""The application's database role, which the migration job (backend.prestart) creates and grants
as the database's owner after migrating.

The role is the user of DATABASE_URL and logs in with its password. It is no superuser and may
create nothing: it reads and changes the rows of the application's tables and draws from their
sequences, nothing more (not the migrations' own alembic_version). Its grants are set anew on each
run, so a table a new migration adds is granted too, and a changed password takes effect.
"""

from __future__ import annotations

import logging

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from servicekit.persistence import async_driver_url

logger = logging.getLogger(__name__)

# Any fixed bigint no other code locks with: concurrent jobs take turns creating the role.
APP_ROLE_LOCK = 0x5EC1F1257_0002
# What the migrations keep for themselves: the role neither reads nor writes it.
MIGRATIONS_TABLE = "alembic_version"
_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class AppRoleError(RuntimeError):
    """DATABASE_URL names a role that cannot be the application's; the message says why."""


async def grant_app_role(owner_url: str, app_url: str) -> None:
    """Creates (or updates) the role of `app_url` and grants it the application's rights, as the
    owner of `owner_url`'s database."""
    app = make_url(app_url)
    role, password = app.username, app.password
    if not role:
        raise AppRoleError("DATABASE_URL names no user: the application needs a role of its own")
    if role == make_url(owner_url).username:
        logger.warning(
            "DATABASE_URL and DATABASE_OWNER_URL name the same role (%s): the application "
            "runs as the owner",
            role,
        )
        return
    engine = create_async_engine(async_driver_url(owner_url), poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": APP_ROLE_LOCK}
            )
            await _ensure_role(connection, role, password)
            await _grant(connection, role)
    finally:
        await engine.dispose()
    logger.info("application role %s: granted the rows of the application's tables", role)


async def _ensure_role(connection: AsyncConnection, role: str, password: str | None) -> None:
    superuser = (
        await connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
        )
    ).scalar()
    if superuser:
        raise AppRoleError(
            f"DATABASE_URL names role {role}, a superuser: name a role of the application's own"
        )
    verb = "CREATE" if superuser is None else "ALTER"
    if password is None:
        await _run(connection, f"{verb} ROLE %I WITH {_ROLE_OPTIONS}", role)
    else:
        await _run(connection, f"{verb} ROLE %I WITH {_ROLE_OPTIONS} PASSWORD %L", role, password)


async def _grant(connection: AsyncConnection, role: str) -> None:
    names = (await connection.execute(text("SELECT current_database(), current_schema()"))).one()
    database: str = names[0]
    schema: str = names[1]
    await _run(connection, "GRANT CONNECT ON DATABASE %I TO %I", database, role)
    # Before PostgreSQL 15 every role may create tables in the public schema.
    await _run(connection, "REVOKE CREATE ON SCHEMA %I FROM PUBLIC", schema)
    await _run(connection, "GRANT USAGE ON SCHEMA %I TO %I", schema, role)
    # Anew: whatever the role was granted before (by hand, by an older release) goes.
    await _run(connection, "REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I", schema, role)
    await _run(
        connection,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I",
        schema,
        role,
    )
    await _run(connection, "REVOKE ALL ON TABLE %I.%I FROM %I", schema, MIGRATIONS_TABLE, role)
    await _run(connection, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I", schema, role)


async def _run(connection: AsyncConnection, template: str, *arguments: str) -> None:
    """Runs the statement `template` once the server has quoted each argument into it (format's
    %I for a name, %L for a literal): DDL takes no bind parameters."""
    placeholders = "".join(f", CAST(:a{index} AS text)" for index in range(len(arguments)))
    statement: str = (
        await connection.execute(
            text(f"SELECT format(:template{placeholders})"),
            {"template": template, **{f"a{i}": value for i, value in enumerate(arguments)}},
        )
    ).scalar_one()
    # As the driver's own SQL: a ':' in a quoted password is no bind parameter.
    await connection.exec_driver_sql(statement)
