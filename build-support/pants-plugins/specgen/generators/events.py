"""generated/events.py: a channel constant per event, a typed publisher, the AsyncAPI document."""

from __future__ import annotations

from specgen.generators.asyncapi import asyncapi_document, stream_name
from specgen.generators.naming import upper_snake
from specgen.generators.render import render
from specgen.ir import SpecSet


def render_events(spec: SpecSet, source: str) -> str:
    channels = [(upper_snake(event.name), event, stream_name(event)) for event in spec.events]
    return render(
        "events.py.j2",
        source,
        channels=channels,
        messages=sorted({event.message for event in spec.events}),
        retained=any(event.retention for event in spec.events),
        asyncapi=asyncapi_document(spec),
    )
