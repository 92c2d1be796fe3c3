"""TypeScript output: the files generated from one spec file, under the TypeScript source root.

shared/spec/models.yaml        -> generated/models.ts (an interface per model and variant) and
                                  generated/http.ts (the fetch runtime the clients share)
shared/spec/events.yaml        -> generated/events.ts (each event's payload type, by name)
<service>/spec/manifest.yaml   -> generated/<service>/clients.ts (a typed client per consumed
                                  domain)
"""

from __future__ import annotations

from typing import Dict

from specgen.generators.typescript.clients import render_clients
from specgen.generators.typescript.events import render_events
from specgen.generators.typescript.models import render_http_runtime, render_models
from specgen.ir import SpecSet
from specgen.layout import spec_kind


def generate_typescript(spec: SpecSet, path: str) -> Dict[str, str]:
    """{output path relative to the TypeScript source root: content} for the spec file at `path`."""
    kind = spec_kind(path)
    if kind == "models":
        return {
            "generated/models.ts": render_models(spec, path),
            "generated/http.ts": render_http_runtime(path),
        }
    if kind == "events":
        return {"generated/events.ts": render_events(spec, path)}
    if kind == "manifest":
        manifest = next(m for m in spec.manifests if m.file == path)
        return {f"generated/{manifest.service}/clients.ts": render_clients(spec, manifest)}
    return {}  # a domain is reached through the clients of the manifests that consume it
