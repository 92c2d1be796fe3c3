"""Generated tables and repositories on a real PostgreSQL: what `storage:` declares is what the
database enforces, and each violation reaches the client as the error it can act on."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, ForeignKey, Identity, inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.persistence import (
    BIGINT_MAX,
    Conflict,
    InvalidValue,
    NotFound,
    NothingToUpdate,
    PreconditionFailed,
    SessionUnitOfWork,
    async_driver_url,
)
from servicekit.preconditions import IfMatch
from servicekit.scratch_database import any_scratch_database
from specgen import load
from specgen.generators.conftest import generate_all, read_specs, write_outputs
from specgen.generators.migration import render_initial_migration

STORE = Path(__file__).parent / "testdata" / "store"


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    try:
        with any_scratch_database(prefix="storage_test") as url:
            yield url
    except Exception as error:  # noqa: BLE001 - any failure means "no database"
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"no PostgreSQL for the tests: {error!r}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Imported once: each module's tables join its service's one metadata, which holds a table
    once."""
    root = tmp_path_factory.mktemp("generated")
    write_outputs(generate_all(read_specs(STORE)), root)
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def orders(generated: None) -> ModuleType:
    return importlib.import_module("generated.shop.storage.orders")


@pytest.fixture(scope="module")
def entries(generated: None) -> ModuleType:
    """A table whose constraints' names PostgreSQL shortens (over 63 characters)."""
    return importlib.import_module("generated.audit.storage.entries")


def run(database_url: str, module: ModuleType, work: Callable[[AsyncSession], Any]) -> Any:
    """Creates the module's tables afresh, then runs `work` in a session and commits."""

    async def main() -> Any:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            async with engine.begin() as connection:
                await connection.run_sync(module.Base.metadata.drop_all)
                await connection.run_sync(module.Base.metadata.create_all)
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_tables_have_the_declared_columns_keys_and_indexes(
    database_url: str, orders: ModuleType
) -> None:
    async def read(session: AsyncSession) -> dict[str, Any]:
        connection = await session.connection()

        def described(sync: Any) -> dict[str, Any]:
            inspector = inspect(sync)
            return {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"])
                    for c in inspector.get_columns("orders")
                },
                "email": str(inspector.get_columns("customers")[1]["type"]),
                "unique": inspector.get_unique_constraints("orders"),
                "indexes": [
                    i["name"]
                    for i in inspector.get_indexes("orders")
                    if not i.get("duplicates_constraint")  # a unique constraint's own
                ],
                "foreign_keys": sorted(
                    (fk["name"], fk["options"].get("ondelete"))
                    for fk in inspector.get_foreign_keys("orders")
                ),
            }

        return await connection.run_sync(described)

    found = run(database_url, orders, read)
    assert found["columns"]["id"] == ("BIGINT", False)
    assert found["columns"]["referrer_id"] == ("UUID", True)
    assert found["columns"]["total"] == ("DOUBLE PRECISION", False)
    assert found["email"] == "VARCHAR(120)"
    assert [(u["name"], u["column_names"]) for u in found["unique"]] == [
        ("uq_orders_customer_id_number", ["customer_id", "number"])
    ]
    assert found["indexes"] == ["ix_orders_created_at"]
    assert found["foreign_keys"] == [
        ("fk_orders_customer_id_customers", "RESTRICT"),
        ("fk_orders_referrer_id_customers", "SET NULL"),
    ]


def test_create_get_list_update_delete(database_url: str, orders: ModuleType) -> None:
    async def work(session: AsyncSession) -> None:
        customers = orders.CustomerRepository(session)
        repository = orders.OrderRepository(session)
        alice = await customers.create({"email": "alice@example.com", "preferences": {}})
        assert isinstance(alice.id, uuid.UUID) and alice.tier == "basic" and alice.credit == 0
        assert alice.joined_at is not None
        first = await repository.create({"customer_id": alice.id, "number": 1, "total": 9.5})
        second = await repository.create({"customer_id": alice.id, "number": 2, "total": 1.0})
        assert first.id < second.id and first.created_at == first.updated_at
        assert [o.number for o in await repository.list(limit=10, offset=0)] == [1, 2]
        assert [o.number for o in await repository.list(limit=1, offset=1)] == [2]
        updated = await repository.update(first.id, {"total": 12.0, "number": None})
        assert (updated.total, updated.number) == (12.0, 1)  # null leaves a NOT NULL column
        assert (await repository.get(first.id)).total == 12.0
        await repository.delete(first.id)
        with pytest.raises(NotFound, match=f"order {first.id} not found"):
            await repository.get(first.id)
        with pytest.raises(NotFound):
            await repository.delete(first.id)
        with pytest.raises(NotFound):
            await repository.update(first.id, {"total": 1.0})

    run(database_url, orders, work)


def test_violations_are_errors_a_client_can_act_on(database_url: str, orders: ModuleType) -> None:
    async def work(session: AsyncSession) -> None:
        customers = orders.CustomerRepository(session)
        repository = orders.OrderRepository(session)
        alice_id = (await customers.create({"email": "a@example.com", "preferences": {}})).id
        await repository.create({"customer_id": alice_id, "number": 1, "total": 1.0})
        await session.commit()
        with pytest.raises(Conflict, match=f"another order has customer_id {alice_id}, number 1$"):
            await repository.create({"customer_id": alice_id, "number": 1, "total": 2.0})
        await session.rollback()
        with pytest.raises(Conflict, match="another customer has email 'a@example.com'$"):
            await customers.create({"email": "a@example.com", "preferences": {}})
        await session.rollback()
        nobody = uuid.uuid4()
        with pytest.raises(InvalidValue, match=f"no customer {nobody}$") as raised:
            await repository.create({"customer_id": nobody, "number": 5, "total": 1.0})
        assert raised.value.field == "customer_id"
        await session.rollback()
        with pytest.raises(Conflict, match="still referred to"):
            await customers.delete(alice_id)  # on_delete: restrict
        await session.rollback()
        with pytest.raises(InvalidValue, match="less than or equal to"):
            await repository.create({"customer_id": alice_id, "number": BIGINT_MAX + 1, "total": 1})
        with pytest.raises(NotFound):
            await repository.get(BIGINT_MAX + 1)  # no query: no bigint is that large
        with pytest.raises(NothingToUpdate):
            await repository.update(1, {"number": None})

    run(database_url, orders, work)


def test_set_null_clears_the_reference(database_url: str, orders: ModuleType) -> None:
    async def work(session: AsyncSession) -> Any:
        customers = orders.CustomerRepository(session)
        repository = orders.OrderRepository(session)
        alice = await customers.create({"email": "alice@example.com", "preferences": {}})
        bob = await customers.create({"email": "bob@example.com", "preferences": {}})
        order = await repository.create(
            {"customer_id": alice.id, "referrer_id": bob.id, "number": 1, "total": 1.0}
        )
        await customers.delete(bob.id)
        await session.refresh(order)
        return order.referrer_id

    assert run(database_url, orders, work) is None


@pytest.mark.parametrize("domain", ["orders", "entries"])
def test_the_initial_migration_creates_what_the_tables_declare(
    database_url: str, orders: ModuleType, entries: ModuleType, domain: str
) -> None:
    """What a scaffold writes as its first migration, applied, leaves autogenerate nothing to do."""
    spec = load(read_specs(STORE))
    stored = next(d for d in spec.domains if d.name == domain)
    module = orders if domain == "orders" else entries
    migration = ModuleType("initial_migration")
    exec(render_initial_migration(spec, stored, "create"), migration.__dict__)

    def migrate_and_compare(connection: Any) -> list[Any]:
        for tables in (orders, entries):  # nothing but what the migration creates
            tables.Base.metadata.drop_all(connection)
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        with Operations.context(context):
            migration.upgrade()
        return compare_metadata(context, module.Base.metadata)

    async def main() -> list[Any]:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(migrate_and_compare)
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == []


AN_ENTRY = {
    "first_rather_long_column_name": "a",
    "second_rather_long_column_name": "b",
    "occurred_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
}


def test_shortened_constraint_names_still_name_the_fields(
    database_url: str, entries: ModuleType
) -> None:
    async def work(session: AsyncSession) -> None:
        repository = entries.EntryRecordedByTheIngestionPipelineRepository(session)
        values = dict(AN_ENTRY)
        await repository.create(values)
        await session.commit()
        with pytest.raises(Conflict, match="first_rather_long_column_name 'a'"):
            await repository.create(values)
        await session.rollback()
        with pytest.raises(InvalidValue, match="no entry recorded by the ingestion pipeline 99"):
            await repository.create(
                {**values, "first_rather_long_column_name": "c", "parent_entry_identifier": 99}
            )
        await session.rollback()

    run(database_url, entries, work)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_rather_long_column_name", "nul\x00byte", "NUL"),
        ("occurred_at", datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))), "UTC"),
    ],
)
def test_values_postgresql_refuses_are_invalid_not_errors(
    database_url: str, entries: ModuleType, field: str, value: Any, message: str
) -> None:
    async def work(session: AsyncSession) -> None:
        repository = entries.EntryRecordedByTheIngestionPipelineRepository(session)
        values = dict(AN_ENTRY)
        with pytest.raises(InvalidValue, match=message) as raised:
            await repository.create({**values, field: value})
        assert raised.value.field == field

    run(database_url, entries, work)


def test_a_hand_written_model_sits_beside_the_generated_ones(
    database_url: str, orders: ModuleType
) -> None:
    """What the spec cannot say is written by hand on the service's base: same metadata, so
    Alembic sees it and it may refer to generated tables."""

    class Attachment(orders.Base):  # type: ignore[name-defined, misc]
        __tablename__ = "attachments"
        id: Mapped[int] = mapped_column(BigInteger(), Identity(), primary_key=True)
        order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))

    try:
        assert orders.Base.metadata.tables["attachments"] is Attachment.__table__

        async def work(session: AsyncSession) -> int:
            customer = await orders.CustomerRepository(session).create(
                {"email": "c@example.com", "preferences": {}}
            )
            order = await orders.OrderRepository(session).create(
                {"customer_id": customer.id, "number": 1, "total": 1.0}
            )
            session.add(Attachment(order_id=order.id))
            await session.flush()
            return order.id  # type: ignore[no-any-return]

        assert run(database_url, orders, work) > 0
    finally:
        asyncio.run(drop_table(database_url, Attachment.__table__))
        orders.Base.metadata.remove(Attachment.__table__)


async def drop_table(database_url: str, table: Any) -> None:
    """A table that left its metadata, which later tests' drop_all would no longer see."""
    engine = create_async_engine(async_driver_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.drop)
    finally:
        await engine.dispose()


def versions(*numbers: int) -> IfMatch:
    return IfMatch(versions=frozenset(numbers))


def test_a_version_counts_up_and_guards_every_write(database_url: str, orders: ModuleType) -> None:
    async def work(session: AsyncSession) -> None:
        customers = orders.CustomerRepository(session)
        repository = orders.OrderRepository(session)
        alice = await customers.create({"email": "a@example.com", "preferences": {}})
        order = await repository.create({"customer_id": alice.id, "number": 1, "total": 1.0})
        assert order.revision == 1
        assert (await repository.update(order.id, {"total": 2.0}, versions(1))).revision == 2
        assert (await repository.update(order.id, {"total": 3.0})).revision == 3  # no If-Match
        with pytest.raises(
            PreconditionFailed, match=f'order {order.id} has changed: .* "3"$'
        ) as stale:
            await repository.update(order.id, {"total": 9.0}, versions(1, 2))
        assert stale.value.current_version == 3
        with pytest.raises(PreconditionFailed):
            await repository.delete(order.id, IfMatch())  # only weak tags: none matches
        assert (await repository.get(order.id)).total == 3.0
        assert (await repository.update(order.id, {"total": 4.0}, IfMatch(any=True))).revision == 4
        with pytest.raises(NotFound):  # no row at all is 404, whatever If-Match says
            await repository.update(order.id + 1, {"total": 1.0}, versions(1))
        await repository.delete(order.id, versions(3, 4))
        with pytest.raises(NotFound):
            await repository.delete(order.id, versions(4))
        with pytest.raises(TypeError, match="customer rows have no version"):
            await customers.update(alice.id, {"nickname": "a"}, versions(1))

    run(database_url, orders, work)


def test_two_clients_changing_what_they_read_one_wins_the_other_gets_412(
    database_url: str, orders: ModuleType
) -> None:
    """Through the generated router on PostgreSQL: the lost update that If-Match prevents."""
    import httpx
    from fastapi import FastAPI

    from servicekit.auth import Authenticator, TokenVerifier
    from servicekit.auth.tokens_testutil import TEST_KEYS, bearer
    from servicekit.errors import install_error_handlers

    routes = importlib.import_module("generated.shop.orders")
    models = importlib.import_module("generated.models")

    class OrdersService:
        def __init__(self, unit: SessionUnitOfWork) -> None:
            self.orders = orders.OrderRepository(unit.session)

        async def get_order(self, order_id: int, principal: Any) -> Any:
            return models.Order.model_validate(await self.orders.get(order_id))

        async def update_order(
            self, body: Any, order_id: int, principal: Any, if_match: IfMatch | None
        ) -> Any:
            return models.Order.model_validate(await self.orders.update(order_id, body, if_match))

        async def delete_order(
            self, order_id: int, principal: Any, if_match: IfMatch | None
        ) -> None:
            await self.orders.delete(order_id, if_match)

    async def create(session: AsyncSession) -> tuple[int, str]:
        customer = await orders.CustomerRepository(session).create(
            {"email": "c@example.com", "preferences": {}}
        )
        order = await orders.OrderRepository(session).create(
            {"customer_id": customer.id, "number": 1, "total": 1.0}
        )
        return order.id, str(customer.id)

    order_id, customer_id = run(database_url, orders, create)

    def change(total: float) -> dict[str, Any]:
        return {"customer_id": customer_id, "total": total}

    async def main() -> None:
        engine = create_async_engine(async_driver_url(database_url))
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def unit_of_work() -> Any:
            async with sessions() as session:
                yield SessionUnitOfWork(session)

        app = FastAPI()
        install_error_handlers(app)
        auth = Authenticator(TokenVerifier(TEST_KEYS, audience="shop"))
        app.include_router(routes.create_router(OrdersService, unit_of_work, auth))
        url = f"/orders/{order_id}"
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=bearer("shop")
        ) as client:
            read = await client.get(url)
            assert read.headers["ETag"] == '"1"' and read.json()["revision"] == 1
            first, second = await asyncio.gather(
                client.put(url, json=change(2.0), headers={"If-Match": read.headers["ETag"]}),
                client.put(url, json=change(3.0), headers={"If-Match": read.headers["ETag"]}),
            )
            won, lost = (first, second) if first.status_code == 200 else (second, first)
            assert (won.status_code, lost.status_code) == (200, 412)
            assert won.headers["ETag"] == lost.headers["ETag"] == '"2"'
            assert "has changed" in lost.json()["detail"]
            assert (await client.get(url)).json()["total"] == won.json()["total"]

            missing = await client.put(url, json=change(5.0))
            assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
            unquoted = await client.put(url, json=change(5.0), headers={"If-Match": "2"})
            assert unquoted.status_code == 400 and "If-Match" in unquoted.json()["detail"]
            weak = await client.put(url, json=change(5.0), headers={"If-Match": 'W/"2"'})
            assert weak.status_code == 412
            stale = await client.delete(url, headers={"If-Match": '"1", "7"'})
            assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
            assert (await client.delete(url, headers={"If-Match": '"7", "2"'})).status_code == 204
            gone = await client.put(url, json=change(5.0), headers={"If-Match": '"2"'})
            assert gone.status_code == 404
        await engine.dispose()

    asyncio.run(main())
