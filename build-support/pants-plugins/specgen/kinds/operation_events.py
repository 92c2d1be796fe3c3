"""An operation's `events` in a domain file, checked against `events.yaml` and the models.

    events: {subscribe: <event>, publish_on_success: <event>, publish_on_error: <event>}

Subscribing needs the event's message as input; a published message is built by field name from
the output (on success) or the input (on error), so its required fields must exist there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from specgen.checks import Shape, did_you_mean, expect_string
from specgen.ir import Event, Operation, OperationEvents
from specgen.kinds.catalog import Catalog
from specgen.yaml_reader import Document, KeyPath

OPERATION_EVENTS = Shape(optional=("subscribe", "publish_on_success", "publish_on_error"))


def read_operation_events(
    doc: Document, path: KeyPath, value: Any, catalog: Catalog
) -> OperationEvents:
    body = OPERATION_EVENTS.read(doc, path, value, null_is_empty=True) or {}
    names = {}
    for key in OPERATION_EVENTS.keys:
        name = expect_string(doc, path + (key,), body[key]) if key in body else None
        if name is not None and name not in catalog.events:
            doc.error(
                path + (key,), f"unknown event '{name}'", did_you_mean(name, list(catalog.events))
            )
            name = None
        names[key] = name
    return OperationEvents(**names)


def check_events(doc: Document, path: KeyPath, operation: Operation, catalog: Catalog) -> None:
    path = path + ("events",)
    events = operation.events
    if events.subscribe is not None:
        event = catalog.events[events.subscribe]
        if not event.subscribe:
            # The template ignores these flags: what the operation does wins, with a warning.
            doc.warning(
                path + ("subscribe",),
                f"event '{event.name}' says 'subscribe: false' in {catalog.event_files[event.name]}"
                " but this operation subscribes to it",
                "set 'subscribe: true' on it in events.yaml",
            )
            event = catalog.events[event.name] = replace(event, subscribe=True)
        if operation.input != event.message:
            given = f"not '{operation.input}'" if operation.input else "the operation has none"
            doc.error(
                path + ("subscribe",),
                f"subscribing to event '{event.name}' needs input '{event.message}', {given}",
                f"write input: {event.message}",
            )
    for key, source in (("publish_on_success", "output"), ("publish_on_error", "input")):
        name = getattr(events, key)
        if name is None:
            continue
        event = catalog.events[name]
        if not event.publish:
            doc.warning(
                path + (key,),
                f"event '{name}' says 'publish: false' in {catalog.event_files[name]}"
                " but this operation publishes it",
                "set 'publish: true' on it in events.yaml",
            )
            event = catalog.events[name] = replace(event, publish=True)
        schema = operation.output.schema if source == "output" else operation.input
        if source == "output" and operation.output.is_list:
            doc.error(
                path + (key,),
                f"{key} cannot build the message of event '{name}' from a list output",
            )
        elif schema is None:
            doc.error(
                path + (key,),
                f"{key} builds the message of event '{name}' from the {source}, but the operation has none",
            )
        else:
            _check_message_source(doc, path + (key,), event, schema, catalog)


def _check_message_source(
    doc: Document, path: KeyPath, event: Event, source: str, catalog: Catalog
) -> None:
    if source not in catalog.schemas or event.message not in catalog.schemas:
        return  # already reported
    available = {field.name for field in catalog.schemas[source].fields}
    for field in catalog.schemas[event.message].fields:
        if field.required and field.name not in available:
            doc.error(
                path,
                f"message '{event.message}' of event '{event.name}' needs field '{field.name}', which '{source}' lacks",
            )
