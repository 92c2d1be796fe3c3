"""Traces with OpenTelemetry, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Unset, no SDK is installed: the API's tracer makes no spans, and the request observer skips
tracing altogether. Sampling and the service name come from OpenTelemetry's own variables
(OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME). Context crosses processes as W3C
`traceparent`: in HTTP headers, in the outbox row with the event, in the stream entry's headers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

tracer = trace.get_tracer("servicekit")


def configure_tracing(service_name: str) -> TracerProvider | None:
    """Installs the SDK exporting to the configured collector; None (tracing off) when none is.
    Call `shutdown()` on the result at exit: it sends the spans still buffered."""
    if not any(os.environ.get(variable) for variable in ENDPOINT_VARIABLES):
        return None
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create; the first,
    # when set, names the service instead.
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracing_enabled() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def current_trace_context(context: Context | None = None) -> dict[str, str]:
    """The span context of `context` (default: the current one) as W3C headers (`traceparent`),
    {} outside a span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def context_from(headers: Mapping[str, str] | None) -> Context | None:
    """The context `headers` carry; a missing or malformed `traceparent` starts a new trace."""
    return propagate.extract(headers) if headers else None


class TracedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose requests are client spans, and carry their context onward."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The URL's path may hold a secret (the Telegram token): the span names the host only.
        with tracer.start_as_current_span(
            f"{request.method} {request.url.host}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": request.method, "server.address": request.url.host},
        ) as span:
            propagate.inject(request.headers)
            response = await self._transport.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self._transport.aclose()


def traced(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncBaseTransport | None:
    """`transport` (by default httpx's own) with client spans when tracing is on; as it is when off."""
    if not tracing_enabled():
        return transport
    return TracedTransport(transport or httpx.AsyncHTTPTransport())
