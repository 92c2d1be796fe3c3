"""Behaviour of generated.<service>.clients against a real uvicorn server."""

from __future__ import annotations

import importlib
import threading
import uuid
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest

from specgen.generators.conftest import SHOP

pytest.importorskip("uvicorn")
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request, Response  # noqa: E402
from faststream.redis import TestRedisBroker  # noqa: E402

from servicekit.auth import Authenticator, TokenVerifier  # noqa: E402
from servicekit.auth.client import ServiceTokenAuth  # noqa: E402
from servicekit.auth.tokens_testutil import TEST_KEYS, TEST_SERVICE_SIGNING_KEY  # noqa: E402
from servicekit.events import EventBus, PublishOnCommit  # noqa: E402
from servicekit.http import ApiError  # noqa: E402
from servicekit.waiting import free_port, wait_until  # noqa: E402
from specgen.generators.shop_fakes import InMemoryCustomers  # noqa: E402

ADDRESS = {"street": "Main St 1", "city": "Berlin"}
AUTH = Authenticator(TokenVerifier(TEST_KEYS, audience="shop"))
# The frontend's calls, signed as a service for the shop (the spec's customers auth).
AS_FRONTEND = ServiceTokenAuth(TEST_SERVICE_SIGNING_KEY, "frontend", "shop")


class FlakyGate:
    """Answers 503 to the next `failures` requests, then lets requests through."""

    def __init__(self) -> None:
        self.failures = 0
        self.requests = 0

    async def __call__(self, request: Request, call_next: Callable[..., Any]) -> Response:
        self.requests += 1
        if self.failures:
            self.failures -= 1
            return Response(status_code=503)
        return await call_next(request)


@pytest.fixture
def server(generate_into_path: Callable[..., Any]) -> Iterator[Any]:
    generate_into_path(SHOP)
    models = importlib.import_module("generated.models")
    customers = importlib.import_module("generated.shop.customers")
    clients = importlib.import_module("generated.frontend.clients")
    controller = InMemoryCustomers(models)
    bus = EventBus("redis://127.0.0.1:6379")
    gate = FlakyGate()
    app = FastAPI()
    app.middleware("http")(gate)
    app.include_router(
        customers.create_router(lambda _unit: controller, lambda: PublishOnCommit(bus), AUTH)
    )
    port = free_port()
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    wait_until(lambda: uvicorn_server.started, 10, "uvicorn started")
    try:
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{port}",
            gate=gate,
            clients=clients,
            models=models,
            bus=bus,
            controller=controller,
        )
    finally:
        uvicorn_server.should_exit = True
        thread.join(10)


@pytest.mark.asyncio
async def test_client_round_trip(server: Any) -> None:
    async with TestRedisBroker(server.bus.broker), server.clients.ShopCustomersClient(
        server.url, backoff=0.01, auth=AS_FRONTEND
    ) as client:
        created = await client.create_customer(
            server.models.CustomerCreate(name="Ann", address=ADDRESS, tier="gold")
        )
        assert isinstance(created, server.models.CustomerRead)
        assert (await client.get_customer(created.id)) == created
        updated = await client.update_customer(server.models.CustomerUpdate(age=7), created.id)
        assert (updated.age, updated.name) == (7, "Ann")  # unset fields are not sent
        listed = await client.list_customers(tier="gold")
        assert listed == [updated] and isinstance(listed[0], server.models.CustomerRead)
        assert await client.list_customers(tier="basic") == []
        assert await client.delete_customer(created.id, if_match=3) is None
    # The version the client sent, as the route parsed its If-Match header.
    assert (
        "delete_customer(if_match=IfMatch(versions=frozenset({3}), any=False))"
        in server.controller.calls
    )


@pytest.mark.asyncio
async def test_client_retries_503_then_succeeds(server: Any) -> None:
    server.gate.failures = 2
    async with server.clients.ShopCustomersClient(server.url, retries=3, backoff=0.01) as client:
        assert await client.list_customers() == []
    assert server.gate.requests == 3


@pytest.mark.asyncio
async def test_client_gives_up_after_the_last_retry(server: Any) -> None:
    server.gate.failures = 10
    async with server.clients.ShopCustomersClient(server.url, retries=2, backoff=0.01) as client:
        with pytest.raises(ApiError) as raised:
            await client.list_customers()
    assert raised.value.status_code == 503 and server.gate.requests == 3


@pytest.mark.asyncio
async def test_client_raises_api_error_for_404_without_retrying(server: Any) -> None:
    async with server.clients.ShopCustomersClient(
        server.url, backoff=0.01, auth=AS_FRONTEND
    ) as client:
        with pytest.raises(ApiError) as raised:
            await client.get_customer(uuid.uuid4())
    assert (raised.value.status_code, raised.value.detail) == (404, "no such customer")
    assert server.gate.requests == 1


@pytest.mark.asyncio
async def test_a_client_without_a_token_reaches_only_public_operations(server: Any) -> None:
    async with server.clients.ShopCustomersClient(server.url, backoff=0.01) as client:
        assert await client.list_customers() == []  # public in the spec
        with pytest.raises(ApiError) as raised:
            await client.get_customer(uuid.uuid4())
    assert raised.value.status_code == 401 and server.gate.requests == 2
    assert server.clients.ShopCustomersClient.service == "shop"
