"""`shared/spec/events.yaml`: the events services publish and subscribe to.

    events:
      <snake_case>:                 EVENT (message names a model or variant class)
        retention: RETENTION        {max_length: <positive int>, max_age: <n>s|m|h|d}

`publish` defaults to true and `subscribe` to false; an operation that contradicts them wins with a
warning (`kinds.operation_events`).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from specgen.checks import (
    Shape,
    describe,
    expect_bool,
    is_identifier,
    is_snake_case,
    optional_string,
    section,
)
from specgen.ir import Event, Retention
from specgen.kinds.catalog import Catalog
from specgen.layout import EVENTS
from specgen.yaml_reader import Document, KeyPath

EVENT = Shape(required=("message",), optional=("publish", "subscribe", "description", "retention"))
RETENTION = Shape(optional=("max_length", "max_age"))
_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def read_events(doc: Document, root: Any, catalog: Catalog) -> None:
    for name, value in section(doc, root, EVENTS).items():
        path = (EVENTS, name)
        if not is_snake_case(name) or not is_identifier(name):
            doc.error(path, f"event name '{name}' is not snake_case")
            continue
        if name in catalog.event_files:
            doc.error(path, f"event '{name}' is already defined in {catalog.event_files[name]}")
            continue
        body = EVENT.read(doc, path, value)
        if body is None:
            continue
        message = (
            catalog.schema_name(doc, path + ("message",), body["message"])
            if "message" in body
            else None
        )
        catalog.event_files[name] = doc.file
        catalog.events[name] = Event(
            name=name,
            message=message or "",
            publish=expect_bool(doc, path, body, "publish", True),
            subscribe=expect_bool(doc, path, body, "subscribe", False),
            description=optional_string(doc, path, body, "description"),
            retention=_retention(doc, path + ("retention",), body.get("retention")),
        )


def _retention(doc: Document, path: KeyPath, value: Any) -> Optional[Retention]:
    """Either bound or both; None when absent."""
    if value is None:
        return None
    body = RETENTION.read(doc, path, value)
    if body is None:
        return None
    max_length = body.get("max_length")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1
    ):
        doc.error(
            path + ("max_length",), f"expected a positive integer, got {describe(max_length)}"
        )
        max_length = None
    max_age = body.get("max_age")
    match = _DURATION.match(max_age) if isinstance(max_age, str) else None
    if max_age is not None and match is None:
        doc.error(
            path + ("max_age",),
            f"expected a duration such as 90s, 30m, 12h or 7d, got {describe(max_age)}",
        )
    if not body.keys() & set(RETENTION.keys):
        doc.error(path, "expected max_length, max_age or both")
    return Retention(
        max_length=max_length,
        max_age_seconds=int(match[1]) * _DURATION_SECONDS[match[2]] if match else None,
    )
