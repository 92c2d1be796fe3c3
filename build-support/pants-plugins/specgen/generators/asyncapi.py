"""The AsyncAPI 2.6 document of the events: a channel per stream, message payloads as schemas."""

from __future__ import annotations

from typing import Any, Dict

from specgen.generators.jsonschema import COMPONENTS, component_schemas
from specgen.ir import Event, SpecSet


def stream_name(event: Event) -> str:
    return f"events.{event.name}"


def asyncapi_document(spec: SpecSet) -> Dict[str, Any]:
    channels: Dict[str, Any] = {}
    messages: Dict[str, Any] = {}
    for event in spec.events:
        message_ref = {"$ref": f"#/components/messages/{event.name}"}
        channel: Dict[str, Any] = {}
        if event.description:
            channel["description"] = event.description
        # AsyncAPI 2 names operations from the client's side: services publish, clients subscribe.
        if event.publish:
            channel["subscribe"] = {"operationId": f"on_{event.name}", "message": message_ref}
        if event.subscribe:
            channel["publish"] = {"operationId": f"send_{event.name}", "message": message_ref}
        channels[stream_name(event)] = channel
        messages[event.name] = {"name": event.name, "payload": {"$ref": COMPONENTS + event.message}}
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "events", "version": "0.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {
            "messages": messages,
            "schemas": component_schemas(spec, [event.message for event in spec.events]),
        },
    }
