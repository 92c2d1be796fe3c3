"""The outbox on the real database: a change and its events commit together or not at all, and
relays (one per replica) publish every committed event once, in order, soon after the commit."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import delete, func, select

from servicekit.database import Database
from backend.tables import EVENT_OUTBOX
from generated.backend.storage.users import UserRecord
from backend.served_backend import events_with_ids
from generated.events import USER_REGISTERED
from generated.models import UserRegisteredEvent
from servicekit.events import EventBus
from servicekit.events.channel import Retention
from servicekit.events.outbox import ControllerCommitted, OutboxUnitOfWork
from servicekit.events.relay import OutboxRelay

pytestmark = pytest.mark.asyncio

_telegram_ids = itertools.count(random.randrange(10**12))


@pytest_asyncio.fixture
async def database(migrated_database_url: str, redis_url: str) -> AsyncIterator[Database]:
    """The module's database with an empty outbox, and an empty user_registered stream."""
    database = Database(migrated_database_url)
    async with database.engine.begin() as connection:
        await connection.execute(delete(EVENT_OUTBOX))
    redis = Redis.from_url(redis_url)
    await redis.delete(USER_REGISTERED.stream)
    await redis.aclose()
    yield database
    await database.dispose()


async def add_user(unit: OutboxUnitOfWork) -> UserRecord:
    """What a controller does: a change in the session, no commit; the route stages the event."""
    user = UserRecord(telegram_id=next(_telegram_ids))
    unit.session.add(user)
    await unit.session.flush()
    unit.publish(USER_REGISTERED, UserRegisteredEvent.model_validate(user, from_attributes=True))
    return user


async def stored(database: Database) -> tuple[int, int]:
    """(users, outbox rows) in the database."""
    async with database.engine.connect() as connection:
        users = await connection.scalar(select(func.count()).select_from(UserRecord))
        events = await connection.scalar(select(func.count()).select_from(EVENT_OUTBOX))
    return int(users or 0), int(events or 0)


async def test_the_change_and_its_event_commit_together(database: Database) -> None:
    before = await stored(database)
    async with database.sessions() as session:
        unit = OutboxUnitOfWork(session, EVENT_OUTBOX)
        user = await add_user(unit)
        assert await stored(database) == before, "visible before the commit"
        await unit.commit()
    assert await stored(database) == (before[0] + 1, before[1] + 1)
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(EVENT_OUTBOX))).one()
    assert row.stream == USER_REGISTERED.stream
    assert (row.body["id"], row.body["telegram_id"]) == (user.id, user.telegram_id)


async def test_a_rolled_back_change_leaves_no_event(database: Database) -> None:
    before = await stored(database)
    async with database.sessions() as session:
        unit = OutboxUnitOfWork(session, EVENT_OUTBOX)
        await add_user(unit)
        await unit.rollback()
        await unit.commit()  # the route's commit after a handled failure: nothing left to write
    async with database.sessions() as session:
        await add_user(OutboxUnitOfWork(session, EVENT_OUTBOX))
        # The request ends (an exception, a 4xx) without the route's commit.
    assert await stored(database) == before


async def test_a_controller_cannot_commit_its_change_without_the_events(database: Database) -> None:
    before = await stored(database)
    async with database.sessions() as session:
        unit = OutboxUnitOfWork(session, EVENT_OUTBOX)
        await add_user(unit)
        with pytest.raises(ControllerCommitted):
            await session.commit()
    assert await stored(database) == before


async def committed_events(database: Database, count: int) -> list[str]:
    """Commits `count` users with their events, a few per transaction; their event ids in order."""
    async with database.engine.connect() as connection:
        first_id = await connection.scalar(select(func.coalesce(func.max(EVENT_OUTBOX.c.id), 0)))
    for _ in range(0, count, 4):
        async with database.sessions() as session:
            unit = OutboxUnitOfWork(session, EVENT_OUTBOX)
            for _ in range(4):
                await add_user(unit)
            await unit.commit()
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(EVENT_OUTBOX.c.event_id)
            .where(EVENT_OUTBOX.c.id > first_id)
            .order_by(EVENT_OUTBOX.c.id)
        )
        return [row.event_id for row in rows]


async def test_relays_of_several_replicas_publish_each_event_once_in_order(
    database: Database, migrated_database_url: str, redis_url: str
) -> None:
    event_ids = await committed_events(database, 600)
    replicas = [Database(migrated_database_url) for _ in range(3)]
    buses = [EventBus(redis_url) for _ in replicas]
    relays = [
        OutboxRelay(replica.engine, EVENT_OUTBOX, bus, batch_size=25)
        for replica, bus in zip(replicas, buses)
    ]
    try:
        await asyncio.gather(*(relay.relay_all() for relay in relays))
    finally:
        for replica, bus in zip(replicas, buses):
            await bus.stop()
            await replica.dispose()
    published = [event_id for event_id, _ in await events_with_ids(redis_url, USER_REGISTERED)]
    assert published == event_ids
    assert (await stored(database))[1] == 0


async def test_the_relay_publishes_at_once_when_woken_and_at_the_poll_otherwise(
    database: Database, redis_url: str
) -> None:
    bus = EventBus(redis_url)
    relay = OutboxRelay(database.engine, EVENT_OUTBOX, bus, poll_interval=2.0)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # idle: the first round found nothing
        for wakes, within in ((True, 0.5), (False, 2.5)):
            async with database.sessions() as session:
                # Without the wake-up: a row another replica committed before it died.
                unit = OutboxUnitOfWork(
                    session, EVENT_OUTBOX, committed=relay.wake if wakes else None
                )
                user = await add_user(unit)
                await unit.commit()
            committed_at = time.monotonic()
            while user.id not in {
                event.id for _, event in await events_with_ids(redis_url, USER_REGISTERED)
            }:
                assert time.monotonic() - committed_at < within, f"not relayed within {within}s"
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await bus.stop()


async def test_relayed_events_keep_their_channels_retention(
    database: Database, redis_url: str
) -> None:
    await committed_events(database, 400)
    bus = EventBus(redis_url)
    bounded = replace(USER_REGISTERED, retention=Retention(max_length=100))
    relay = OutboxRelay(database.engine, EVENT_OUTBOX, bus, channels=[bounded])
    while await relay.relay_batch():
        pass
    await bus.stop()
    redis = Redis.from_url(redis_url)
    # Redis trims whole nodes (100 entries by default): a little more than asked is kept.
    assert 100 <= await redis.xlen(USER_REGISTERED.stream) < 300
    await redis.aclose()


async def test_a_failing_redis_keeps_the_rows(database: Database) -> None:
    await committed_events(database, 4)
    bus = EventBus("redis://127.0.0.1:1/0")  # refused
    relay = OutboxRelay(database.engine, EVENT_OUTBOX, bus)
    with pytest.raises(RedisConnectionError):
        await relay.relay_batch()
    await bus.stop()
    assert (await stored(database))[1] == 4
