"""The receiver gets what the real OpenTelemetry SDK exports over HTTP from another process, with
parent links, trace id and service name intact; a body it cannot decode is refused, not fatal."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, StatusCode, format_span_id, format_trace_id

from servicekit.otlp_receiver import OtlpReceiver, otlp_receiver

SERVICE = "otlp-receiver-test"


def export_parent_and_child(traces_url: str, compression: str) -> None:
    """Runs in a process of its own, as a service would: the SDK's batch processor exports over
    HTTP. Prints the ids it made as JSON for the test to compare."""
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    exporter = OTLPSpanExporter(endpoint=traces_url, compression=Compression(compression))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("servicekit.otlp_receiver_test")
    with tracer.start_as_current_span("linked") as linked:
        pass
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        with tracer.start_as_current_span(
            "child",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": "POST", "retries": 2, "tags": ["a", "b"]},
            links=[Link(linked.get_span_context(), {"why": "caused by"})],
        ) as child:
            pass
    provider.shutdown()  # flushes the batch before the process ends
    ids = {
        "trace_id": format_trace_id(parent.get_span_context().trace_id),
        "parent": format_span_id(parent.get_span_context().span_id),
        "child": format_span_id(child.get_span_context().span_id),
        "linked_trace": format_trace_id(linked.get_span_context().trace_id),
        "linked": format_span_id(linked.get_span_context().span_id),
    }
    print(json.dumps(ids))


def run_exporting_process(receiver: OtlpReceiver, compression: str) -> dict[str, str]:
    code = (
        "import sys; from servicekit.otlp_receiver_test import export_parent_and_child as run; "
        "run(sys.argv[1], sys.argv[2])"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code, f"{receiver.endpoint}/v1/traces", compression],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},  # this test's own imports
    )
    assert finished.returncode == 0, finished.stderr
    ids: dict[str, str] = json.loads(finished.stdout.strip().splitlines()[-1])
    return ids


@pytest.mark.parametrize("compression", ["none", "gzip", "deflate"])
def test_spans_exported_by_another_process_arrive_with_their_links(compression: str) -> None:
    with otlp_receiver() as receiver:
        ids = run_exporting_process(receiver, compression)
        receiver.wait_for_spans(lambda span: span.trace_id == ids["trace_id"], count=2)
        parent, child = receiver.trace(ids["trace_id"])
        assert receiver.rejections == []

    assert (parent.name, parent.span_id, parent.parent_span_id) == ("parent", ids["parent"], None)
    assert (child.name, child.span_id, child.parent_span_id) == (
        "child",
        ids["child"],
        parent.span_id,
    )
    assert {parent.service_name, child.service_name} == {SERVICE}
    assert (parent.kind, child.kind) == (SpanKind.SERVER, SpanKind.CLIENT)
    assert child.attributes == {"http.request.method": "POST", "retries": 2, "tags": ["a", "b"]}
    assert child.scope == "servicekit.otlp_receiver_test"
    assert child.status is StatusCode.UNSET and 0 < child.start_ns <= child.end_ns
    [link] = child.links
    assert (link.trace_id, link.span_id) == (ids["linked_trace"], ids["linked"])
    assert link.attributes == {"why": "caused by"}
    assert len(receiver.spans()) == 3  # and the linked span, in a trace of its own


def test_a_malformed_body_is_refused_and_the_receiver_goes_on() -> None:
    valid = request_with_one_span()
    with otlp_receiver() as receiver, httpx.Client(base_url=receiver.endpoint) as client:
        url = "/v1/traces"
        protobuf = {"Content-Type": "application/x-protobuf"}
        gzipped = {**protobuf, "Content-Encoding": "gzip"}

        assert (
            client.post(url, content=b"\xff\xff not protobuf", headers=protobuf).status_code == 400
        )
        assert client.post(url, content=valid, headers=gzipped).status_code == 400  # not gzip
        assert (
            client.post(
                url, content=b"{}", headers={"Content-Type": "application/json"}
            ).status_code
            == 415
        )
        assert client.post("/v1/metrics", content=valid, headers=protobuf).status_code == 404
        assert len(receiver.rejections) == 4 and receiver.spans() == []

        answer = client.post(url, content=gzip.compress(valid), headers=gzipped)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/x-protobuf"
        assert (
            ExportTraceServiceResponse.FromString(answer.content).partial_success.rejected_spans
            == 0
        )
        [span] = receiver.wait_for_spans(lambda span: span.name == "hand-made")
        assert (span.trace_id, span.span_id, span.service_name) == ("01" * 16, "02" * 8, None)


def test_ids_of_the_wrong_size_are_refused() -> None:
    with otlp_receiver() as receiver:
        answer = httpx.post(
            f"{receiver.endpoint}/v1/traces",
            content=request_with_one_span(trace_id=b"\x01" * 8),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert answer.status_code == 400 and "trace_id has 8 bytes" in answer.text
        assert receiver.spans() == []


def test_waiting_for_spans_that_never_come_says_what_came() -> None:
    with otlp_receiver() as receiver, pytest.raises(AssertionError, match="got 0"):
        receiver.wait_for_spans(lambda span: True, timeout=0.2)


def request_with_one_span(trace_id: bytes = b"\x01" * 16) -> bytes:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = trace_id, b"\x02" * 8, "hand-made"
    return request.SerializeToString()
