"""Behaviour of generated.models: validation as the spec describes it."""

from __future__ import annotations

import importlib
import uuid
from typing import Any, Callable

import pytest

from specgen.generators.conftest import COMPAT, SHOP

pytest.importorskip("pydantic")
from pydantic import ValidationError  # noqa: E402

ADDRESS = {"street": "Main St 1", "city": "Berlin"}


@pytest.fixture
def models(generate_into_path: Callable[..., Any]) -> Any:
    generate_into_path(SHOP)
    return importlib.import_module("generated.models")


def test_create_applies_defaults_and_omits_readonly_fields(models: Any) -> None:
    customer = models.CustomerCreate(name="Ann", address=ADDRESS)
    assert customer.tier is models.CustomerTier.BASIC
    assert (customer.age, customer.previous, customer.tags, customer.score) == (None, [], {}, 0.5)
    assert "id" not in models.CustomerCreate.model_fields
    assert "created_at" not in models.CustomerCreate.model_fields
    with pytest.raises(ValidationError):
        models.CustomerCreate(name="Ann", address=ADDRESS, id=str(uuid.uuid4()))


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": "x" * 21},
        {"age": -1},
        {"age": 151},
        {"tier": "platinum"},
        {"unknown": 1},
    ],
)
def test_create_rejects_what_the_spec_forbids(models: Any, change: dict) -> None:
    with pytest.raises(ValidationError):
        models.CustomerCreate.model_validate({"name": "Ann", "address": ADDRESS, **change})


def test_nested_models_lists_and_dicts_validate(models: Any) -> None:
    customer = models.CustomerCreate.model_validate(
        {
            "name": "Ann",
            "address": ADDRESS,
            "previous": [ADDRESS],
            "tags": {"vip": 1},
            "tier": "gold",
        }
    )
    assert isinstance(customer.previous[0], models.Address)
    assert customer.tier is models.CustomerTier.GOLD
    with pytest.raises(ValidationError):
        models.CustomerCreate.model_validate(
            {"name": "Ann", "address": {"street": "x" * 41, "city": "B"}}
        )
    with pytest.raises(ValidationError):
        models.CustomerCreate.model_validate(
            {"name": "Ann", "address": ADDRESS, "tags": {"vip": "many"}}
        )


def test_update_makes_the_listed_fields_optional(models: Any) -> None:
    assert models.CustomerUpdate().model_dump(exclude_unset=True) == {}
    assert models.CustomerUpdate(age=3).age == 3
    with pytest.raises(ValidationError):
        models.CustomerUpdate(age=-3)


def test_read_requires_server_fields_and_reads_attributes(models: Any) -> None:
    class Row:
        id = uuid.uuid4()
        name = "Ann"
        address = models.Address(**ADDRESS)
        created_at = "2024-01-01T00:00:00Z"

    read = models.CustomerRead.model_validate(Row(), from_attributes=True)
    assert read.id == Row.id and read.created_at.year == 2024
    with pytest.raises(ValidationError):
        models.CustomerRead(name="Ann", address=ADDRESS)


def test_references_resolve_in_any_order_and_to_self(models: Any) -> None:
    basket = models.Basket.model_validate({"items": [{"sku": "A1"}]})
    assert isinstance(basket.items[0], models.Item)
    nested = models.Customer.model_validate(
        {
            "id": str(uuid.uuid4()),
            "name": "Ann",
            "address": ADDRESS,
            "created_at": "2024-01-01T00:00:00Z",
            "referrer": {
                "id": str(uuid.uuid4()),
                "name": "Bob",
                "address": ADDRESS,
                "created_at": "2024-01-01T00:00:00Z",
            },
        }
    )
    assert isinstance(nested.referrer, models.Customer)


def test_enum_class_is_shared_by_model_and_variants(models: Any) -> None:
    for name in ("Customer", "CustomerCreate", "CustomerRead"):
        assert getattr(models, name).model_fields["tier"].annotation is models.CustomerTier
    assert "CustomerTier" in models.__all__


def test_compat_models(generate_into_path: Callable[..., Any]) -> None:
    generate_into_path(COMPAT)
    models = importlib.import_module("generated.models")
    user = models.UserCreate(telegram_id=5)
    assert user.is_admin is False
    with pytest.raises(ValidationError):
        models.UserCreate(telegram_id=-1)
    assert models.UserUpdate().telegram_id is None
    assert models.CommandReceivedCreate(command="start", args=[], user_id=1).timestamp is None


def test_datetimes_are_timezone_aware_as_in_the_template(
    generate_into_path: Callable[..., Any],
) -> None:
    generate_into_path(COMPAT)
    models = importlib.import_module("generated.models")
    received = {"command": "start", "args": [], "user_id": 1}
    aware = models.CommandReceived(**received, timestamp="2024-05-01T12:00:00+02:00")
    assert aware.timestamp.utcoffset() is not None
    with pytest.raises(ValidationError, match="timezone"):
        models.CommandReceived(**received, timestamp="2024-05-01T12:00:00")
