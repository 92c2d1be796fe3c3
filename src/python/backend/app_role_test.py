"""The application's database role on a real PostgreSQL, made by the migration job as it runs in
the image (`python -m backend.prestart` with the owner's and the role's URLs): the app works as
that role, and the role can change rows but neither the schema nor what the migrations keep."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from backend.app import create_app
from servicekit.persistence import async_driver_url
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer

# A password with what URLs, SQL literals and bind parameters treat specially.
PASSWORD = "p:a's$1%w@rd/?"


def prestart(owner_url: str | None, app_url: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DATABASE_URL": app_url,
        "BACKEND_STARTUP_TIMEOUT_SECONDS": "5",
    }
    environment.pop("DATABASE_OWNER_URL", None)
    if owner_url is not None:
        environment["DATABASE_OWNER_URL"] = owner_url
    return subprocess.run(
        [sys.executable, "-m", "backend.prestart"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def execute(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(async_driver_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def run(url: str, statement: str) -> list[tuple[object, ...]]:
    return asyncio.run(execute(url, statement))


@pytest.fixture
def app_url(database_url: str) -> Iterator[str]:
    """The URL of a role no other test uses (roles belong to the whole server), dropped after."""
    role = f"app_test_{uuid.uuid4().hex[:12]}"
    url = make_url(database_url).set(username=role, password=PASSWORD)
    yield url.render_as_string(hide_password=False)
    if run(database_url, f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
        run(database_url, f'DROP OWNED BY "{role}"')  # its grants, here and on the database
        run(database_url, f'DROP ROLE "{role}"')


@pytest.fixture
def prepared(database_url: str, app_url: str) -> str:
    """The database migrated by its owner, and the role granted, by the migration job."""
    job = prestart(database_url, app_url)
    assert job.returncode == 0, job.stdout + job.stderr
    return app_url


def test_the_role_is_no_superuser_and_has_its_password(database_url: str, prepared: str) -> None:
    role = make_url(prepared).username
    [(superuser, creates_db, creates_roles, has_password)] = run(
        database_url,
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolpassword IS NOT NULL"
        f" FROM pg_authid WHERE rolname = '{role}'",
    )
    assert (superuser, creates_db, creates_roles, has_password) == (False, False, False, True)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE users",
        "ALTER TABLE users ADD COLUMN intruder int",
        "TRUNCATE users",
        "CREATE INDEX intruder ON users (telegram_id)",
        "SELECT * FROM alembic_version",
        "UPDATE alembic_version SET version_num = 'x'",
        "CREATE ROLE intruder",
        "CREATE DATABASE intruder",
        "SELECT * FROM pg_authid",
    ],
)
def test_the_role_cannot_change_the_schema_or_read_what_is_not_its(
    prepared: str, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="permission denied|must be owner|must be a member"):
        run(prepared, statement)


def test_the_app_works_as_the_role(prepared: str, redis_url: str) -> None:
    async def exercise() -> None:
        app = create_app(prepared, redis_url, keys=TEST_KEYS)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://backend",
            headers=bearer("backend"),
        ) as client, app.router.lifespan_context(app):
            assert (await client.get("/health/ready")).status_code == 200
            created = await client.post("/users", json={"telegram_id": 424242})
            assert created.status_code == 201, created.text
            user = created.json()
            changed = await client.put(f"/users/{user['id']}", json={"telegram_id": 424243})
            assert changed.status_code == 200, changed.text
            listed = await client.get("/users")
            assert [item["telegram_id"] for item in listed.json()] == [424243]
            # The relay deletes what it sent from the outbox, as the role too.
            await app.state.relay.relay_all()
            assert (await client.delete(f"/users/{user['id']}")).status_code == 204

    asyncio.run(exercise())
    assert run(prepared, "SELECT count(*) FROM event_outbox") == [(0,)]


def test_running_the_job_again_keeps_the_role_and_sets_a_new_password(
    database_url: str, prepared: str
) -> None:
    role = make_url(prepared).username
    [(before,)] = run(database_url, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")
    renewed = make_url(prepared).set(password="another").render_as_string(hide_password=False)
    again = prestart(database_url, renewed)
    assert again.returncode == 0, again.stdout + again.stderr
    [(after,)] = run(database_url, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")
    assert after != before
    run(prepared, "SELECT count(*) FROM users")


def test_a_superuser_as_the_application_role_is_refused(database_url: str) -> None:
    """DATABASE_URL naming a superuser other than the owner: the job says so and stops."""
    role = f"super_test_{uuid.uuid4().hex[:12]}"
    run(database_url, f'CREATE ROLE "{role}" SUPERUSER LOGIN')
    try:
        app_url = make_url(database_url).set(username=role).render_as_string(hide_password=False)
        job = prestart(database_url, app_url)
        assert job.returncode == 1
        assert job.stderr.strip().splitlines()[-1] == (
            f"backend-prestart: DATABASE_URL names role {role}, a superuser: "
            "name a role of the application's own"
        )
    finally:
        run(database_url, f'DROP ROLE "{role}"')


def test_without_an_owner_url_the_job_migrates_as_database_url(database_url: str) -> None:
    job = prestart(None, database_url)
    assert job.returncode == 0, job.stdout + job.stderr
    assert ("users",) in run(
        database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
