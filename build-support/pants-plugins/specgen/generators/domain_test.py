"""Behaviour of generated.<service>.<domain>: routes, events, subscribers, the OpenAPI fragment."""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, AsyncIterator, Callable, List

import pytest

from specgen.generators.conftest import COMPAT, SHOP

pytest.importorskip("fastapi")
import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402
import redis  # noqa: E402

from servicekit.api import merge_openapi, serve_spec_openapi  # noqa: E402
from servicekit.auth import Authenticator, TokenVerifier  # noqa: E402
from servicekit.auth.tokens_testutil import TEST_KEYS, bearer  # noqa: E402
from servicekit.events import EventBus, PublishOnCommit  # noqa: E402
from specgen.generators.shop_fakes import InMemoryCustomers  # noqa: E402

NEW = {"name": "Ann", "address": {"street": "Main St 1", "city": "Berlin"}}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
AUTH = Authenticator(TokenVerifier(TEST_KEYS, audience="shop"))


@pytest.fixture
def shop(generate_into_path: Callable[..., Any]) -> Any:
    """The generated modules, a fake controller, an event bus recording published events, an app."""
    generate_into_path(SHOP)
    models = importlib.import_module("generated.models")
    events = importlib.import_module("generated.events")
    customers = importlib.import_module("generated.shop.customers")
    controller = InMemoryCustomers(models)
    # The shop's streams start empty, so what a test sees is what it published.
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(
            *(
                f"events.{name}"
                for name in ("customer_created", "customer_rejected", "customer_imported")
            )
        )
    bus = EventBus(REDIS_URL)
    published: List[Any] = []
    recorder_group = f"recorder-{uuid.uuid4().hex}"
    for channel in (events.CUSTOMER_CREATED, events.CUSTOMER_REJECTED):
        bus.subscribe(channel, recorder_group, _recorder(published))
    app = FastAPI()
    app.include_router(
        customers.create_router(lambda _unit: controller, lambda: PublishOnCommit(bus), AUTH)
    )
    return SimpleNamespace(
        models=models,
        events=events,
        customers=customers,
        controller=controller,
        bus=bus,
        published=published,
        app=app,
    )


def _recorder(published: List[Any]) -> Callable[[Any], Any]:
    async def record(message: Any) -> None:
        published.append(message)

    return record


@asynccontextmanager
async def running(bus: EventBus) -> AsyncIterator[None]:
    await bus.start()
    try:
        yield
    finally:
        await bus.stop()


async def delivered(published: List[Any], count: int) -> List[Any]:
    """What the recorder received, once `count` events arrived (or after 10 s)."""
    for _ in range(200):
        if len(published) >= count:
            break
        await asyncio.sleep(0.05)
    return published


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://test",
        headers=bearer("shop"),
    )


@pytest.mark.asyncio
async def test_routes_answer_with_the_spec_status_codes(shop: Any) -> None:
    async with running(shop.bus), _client(shop.app) as client:
        created = await client.post("/customers", json=NEW)
        assert created.status_code == 201
        customer_id = created.json()["id"]
        assert (await client.get(f"/customers/{customer_id}")).json()["name"] == "Ann"
        updated = await client.patch(f"/customers/{customer_id}", json={"age": 30})
        assert (
            updated.status_code == 200
            and updated.json()["age"] == 30
            and updated.json()["name"] == "Ann"
        )
        deleted = await client.delete(f"/customers/{customer_id}")
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert (await client.get(f"/customers/{customer_id}")).status_code == 404


@pytest.mark.asyncio
async def test_validation_errors_are_422(shop: Any) -> None:
    async with running(shop.bus), _client(shop.app) as client:
        assert (await client.post("/customers", json={**NEW, "extra": 1})).status_code == 422
        assert (await client.get("/customers/not-a-uuid")).status_code == 422
        assert (await client.get("/customers", params={"limit": 0})).status_code == 422
        assert (await client.get("/customers", params={"tier": "platinum"})).status_code == 422
    assert shop.controller.calls == []


@pytest.mark.asyncio
async def test_query_parameters_reach_the_controller_with_defaults(shop: Any) -> None:
    async with running(shop.bus), _client(shop.app) as client:
        await client.post("/customers", json=NEW)
        await client.post("/customers", json={**NEW, "tier": "gold"})
        everyone = await client.get("/customers")
        gold = await client.get("/customers", params={"tier": "gold", "limit": 5})
    assert len(everyone.json()) == 2 and [c["tier"] for c in gold.json()] == ["gold"]
    assert shop.controller.calls[-2:] == [
        "list_customers(limit=10, tier=None)",
        "list_customers(limit=5, tier=gold)",
    ]


@pytest.mark.asyncio
async def test_success_publishes_the_success_event_from_the_output(shop: Any) -> None:
    async with running(shop.bus), _client(shop.app) as client:
        created = (await client.post("/customers", json=NEW)).json()
        assert await delivered(shop.published, 1) == [
            shop.models.CustomerChanged(id=created["id"], name="Ann")
        ]


@pytest.mark.asyncio
async def test_failure_publishes_the_error_event_from_the_input_and_reraises(shop: Any) -> None:
    async with running(shop.bus), _client(shop.app) as client:
        response = await client.post("/customers", json={**NEW, "name": "fail"})
        assert response.status_code == 500
        assert await delivered(shop.published, 1) == [shop.models.CustomerRejected(name="fail")]


def test_a_domain_publishing_events_needs_a_unit_of_work(shop: Any) -> None:
    with pytest.raises(ValueError, match="create_customer"):
        shop.customers.create_router(lambda _unit: shop.controller)


class RecordingUnitOfWork:
    """Records what a route asks of its unit of work, in order."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def publish(self, channel: Any, message: Any) -> None:
        self.calls.append(f"publish {channel.name}")

    async def commit(self) -> None:
        self.calls.append("commit")

    async def rollback(self) -> None:
        self.calls.append("rollback")


@pytest.mark.asyncio
async def test_a_route_commits_its_events_with_the_change_and_a_failed_one_rolls_back(
    shop: Any,
) -> None:
    units: List[RecordingUnitOfWork] = []

    def unit_of_work() -> RecordingUnitOfWork:
        units.append(RecordingUnitOfWork())
        return units[-1]

    app = FastAPI()
    app.include_router(
        shop.customers.create_router(lambda _unit: shop.controller, unit_of_work, AUTH)
    )
    async with _client(app) as client:
        created = await client.post("/customers", json=NEW)
        listed = await client.get("/customers")
        missing = await client.get(f"/customers/{uuid.uuid4()}")
        failed = await client.post("/customers", json={**NEW, "name": "fail"})
        deleted = await client.delete(f"/customers/{created.json()['id']}")
    assert [created.status_code, listed.status_code, missing.status_code] == [201, 200, 404]
    assert [failed.status_code, deleted.status_code] == [500, 204]
    assert [unit.calls for unit in units] == [
        # The events are staged before the commit, and the commit comes before the answer.
        ["publish customer_created", "commit"],
        [],  # a GET publishing nothing changes nothing: it ends in the session's rollback
        [],  # the controller raised: nothing commits, the session rolls back as it closes
        ["rollback", "publish customer_rejected", "commit"],  # the error event alone
        ["commit"],  # a change without events commits too: the controller never does
    ]


@pytest.mark.asyncio
async def test_subscribed_events_run_the_operation(shop: Any) -> None:
    shop.customers.register_subscribers(shop.bus, shop.controller, f"shop-{uuid.uuid4().hex}")
    async with running(shop.bus):
        await shop.bus.publish(
            shop.events.CUSTOMER_IMPORTED,
            shop.models.CustomerCreate(name="Imported", address=NEW["address"]),
        )
        assert [message.name for message in await delivered(shop.published, 1)] == ["Imported"]
    assert "import_customer" in shop.controller.calls


@pytest.mark.asyncio
async def test_the_typed_publisher_publishes_an_event_given_twice_for_one_handling(
    shop: Any,
) -> None:
    shop.customers.register_subscribers(shop.bus, shop.controller, f"shop-{uuid.uuid4().hex}")
    publisher = shop.events.EventPublisher(shop.bus)
    imported = shop.models.CustomerCreate(name="Twice", address=NEW["address"])
    async with running(shop.bus):
        first = await publisher.customer_imported(imported, event_id="import-1")
        again = await publisher.customer_imported(imported, event_id="import-1")
        assert first == again == "import-1"
        assert [message.name for message in await delivered(shop.published, 1)] == ["Twice"]
        await asyncio.sleep(0.5)  # time enough for a second handling, were there one
    assert shop.controller.calls.count("import_customer") == 1


def _routes(document: dict) -> dict:
    """(path, method) -> (operationId, status codes, parameters) of an OpenAPI document."""
    return {
        (path, method): (
            operation["operationId"],
            sorted(operation["responses"]),
            sorted((p["name"], p["in"], p["required"]) for p in operation.get("parameters", [])),
            "requestBody" in operation,
        )
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


@pytest.mark.asyncio
async def test_a_declared_error_status_is_documented_with_its_body(shop: Any) -> None:
    async with _client(shop.app) as client:
        missing = await client.get(f"/customers/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"detail": "no such customer"}
    declared = shop.customers.OPENAPI["paths"]["/customers/{customer_id}"]["get"]["responses"]
    assert declared["404"] == {
        "description": "Not Found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    assert shop.customers.OPENAPI["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_openapi_fragment_matches_what_fastapi_serves(shop: Any) -> None:
    assert _routes(shop.customers.OPENAPI) == _routes(shop.app.openapi())
    # FastAPI names the error statuses without a body schema; the fragment gives servicekit's.
    assert set(shop.customers.OPENAPI["components"]["schemas"]) <= set(
        shop.app.openapi()["components"]["schemas"]
    ) | {"Address", "Customer", "Error"}


@pytest.mark.asyncio
async def test_served_openapi_is_the_merged_fragments(
    generate_into_path: Callable[..., Any],
) -> None:
    generate_into_path(COMPAT)
    users = importlib.import_module("generated.backend.users")
    debug = importlib.import_module("generated.backend.debug")
    app = FastAPI()
    for domain in (users, debug):
        app.include_router(domain.create_router(lambda _unit: None, auth=AUTH))
    fastapi_routes = _routes(app.openapi())
    serve_spec_openapi(app, "backend", "1.2.3", [users.OPENAPI, debug.OPENAPI])
    async with _client(app) as client:
        served = (await client.get("/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 200
    assert served == merge_openapi("backend", "1.2.3", [users.OPENAPI, debug.OPENAPI])
    assert _routes(served) == fastapi_routes
    assert served["paths"]["/debug/command"]["post"]["responses"]["202"]["content"]
