"""generated/events.ts: each event's payload type and stream, by event name."""

from __future__ import annotations

from specgen.generators.render import render
from specgen.generators.asyncapi import stream_name
from specgen.ir import SpecSet


def render_events(spec: SpecSet, source: str) -> str:
    return render(
        "typescript/events.ts.j2",
        source,
        comment="//",
        events=[(event, stream_name(event)) for event in spec.events],
        messages=sorted({event.message for event in spec.events}),
    )
