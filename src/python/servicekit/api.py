"""What every FastAPI service shares: the spec's OpenAPI document (the merged domain fragments)
served instead of FastAPI's own, the JSON error shape, the request body limit, and what each
request leaves behind (request id, access line, metrics, span)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from servicekit.body_limit import BodySizeLimit
from servicekit.errors import install_error_handlers
from servicekit.request_observer import ObserveRequests

DEFAULT_MAX_BODY_BYTES = 64 * 1024
# `FastAPI(telemetry=...)` of an app that harden() observes: FastAPI's own OpenTelemetry spans and
# metrics would repeat servicekit.request_observer's server span (a sibling named by the route,
# not by the spec's operation) and add three spans per request to the cost of tracing.
NATIVE_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def merge_openapi(title: str, version: str, fragments: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One OpenAPI document from domain fragments; a route or schema defined twice differently is an error."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    for fragment in fragments:
        for path, item in fragment.get("paths", {}).items():
            for method, operation in item.items():
                if method in paths.setdefault(path, {}):
                    raise ValueError(f"{method.upper()} {path} is defined by two fragments")
                paths[path][method] = operation
        for name, schema in fragment.get("components", {}).get("schemas", {}).items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"schema {name} differs between fragments")
        for name, scheme in fragment.get("components", {}).get("securitySchemes", {}).items():
            if security_schemes.setdefault(name, scheme) != scheme:
                raise ValueError(f"security scheme {name} differs between fragments")
    components: dict[str, Any] = {"schemas": dict(sorted(schemas.items()))}
    if security_schemes:
        components["securitySchemes"] = security_schemes
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": components,
    }


def serve_spec_openapi(
    app: FastAPI, title: str, version: str, fragments: Iterable[dict[str, Any]]
) -> None:
    """Makes `/openapi.json` (and so `/docs`) serve the merged fragments.

    Behind a proxy prefix (the app's root_path) the document names it as its server, as FastAPI's
    own would, so that /docs sends its requests through the proxy.
    """
    document = merge_openapi(title, version, fragments)
    app.openapi_schema = document

    def openapi() -> dict[str, Any]:
        return {**document, "servers": app.servers} if app.servers else document

    app.openapi = openapi  # type: ignore[method-assign]


def harden(
    app: FastAPI, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, metrics: bool = True
) -> None:
    """Every error as JSON in one shape (servicekit.errors), bodies over `max_body_bytes` refused
    with 413 when read (after the route has checked its caller), and every request observed
    (`metrics`: counted and timed for Prometheus too).
    (Strict JSON parsing comes with the generated routers: servicekit.strict_json.)"""
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    # Added last, so outermost: the 413s and errors of the layers inside are observed too.
    app.add_middleware(ObserveRequests, metrics=metrics)
