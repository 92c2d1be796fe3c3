"""Both services as processes, watched as an operator watches them: a real Prometheus server scrapes
their /metrics, a real OTLP/HTTP receiver takes their spans, and their output is read as a log
store would read it.

One trace runs from POST /users through the outbox row, the relay's publish and the worker's
handling to the sendMessage call at a fake Telegram, also when the replica that committed the row
is SIGKILLed before relaying it and another replica relays it.
"""

from __future__ import annotations

import json
import secrets
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.processes import (
    REDIS_URL,
    lines_of,
    start_service,
    stop_service,
    wait_until_answering,
)
from servicekit.auth.tokens_testutil import (
    TEST_AUTH_JWKS,
    TEST_SERVICE_AUTH_SIGNING_KEY,
    TEST_SERVICE_SIGNING_KEY,
    bearer,
)
from servicekit.otlp_receiver import OtlpReceiver, ReceivedSpan, SpanKind, otlp_receiver
from servicekit.prometheus_server import PrometheusServer, prometheus_server
from servicekit.waiting import free_port
from tg_bot.fake_telegram import FakeTelegram

ADMIN = bearer("backend")
TELEGRAM_TOKEN = f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"


@dataclass
class Observed:
    backend_url: str
    telegram: FakeTelegram
    receiver: OtlpReceiver
    prometheus: PrometheusServer
    logs: Path  # backend.log, tg_bot.log
    backend_env: dict[str, str]


def observing_env(receiver: OtlpReceiver, stream_prefix: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans reach the receiver soon after they end
        "LOG_FORMAT": "json",
        "EVENTS_STREAM_PREFIX": stream_prefix,
        "AUTH_JWKS": TEST_AUTH_JWKS,  # the backend's
        "AUTH_SIGNING_KEY": TEST_SERVICE_AUTH_SIGNING_KEY,  # tg_bot's
    }


@pytest.fixture(scope="module")
def observed(
    database_url: str, stream_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Observed]:
    logs = tmp_path_factory.mktemp("logs")
    telegram = FakeTelegram(token=TELEGRAM_TOKEN)
    backend_port, backend_metrics, bot_metrics = free_port(), free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    with otlp_receiver() as receiver, telegram.serve() as telegram_url:
        common = observing_env(receiver, stream_prefix)
        backend_env = {
            **common,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "BACKEND_EMBEDDED": "false",
            "BACKEND_HOST": "127.0.0.1",
        }
        with (logs / "prestart.log").open("w") as output:
            prestart = start_service("backend.prestart", backend_env, output)
            assert prestart.wait(timeout=120) == 0, (logs / "prestart.log").read_text()
        with (logs / "backend.log").open("w") as backend_log, (logs / "tg_bot.log").open(
            "w"
        ) as bot_log:
            backend = start_service(
                "backend.main",
                {
                    **backend_env,
                    "BACKEND_PORT": str(backend_port),
                    "METRICS_PORT": str(backend_metrics),
                },
                backend_log,
            )
            bot = start_service(
                "tg_bot.main",
                {
                    **common,
                    "REDIS_URL": REDIS_URL,
                    "BACKEND_URL": backend_url,
                    "TELEGRAM_API_URL": telegram_url,
                    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                    "TELEGRAM_POLL_TIMEOUT": "1",
                    "METRICS_PORT": str(bot_metrics),
                },
                bot_log,
            )
            try:
                wait_until_answering(backend_url, backend)
                targets = [f"127.0.0.1:{backend_metrics}", f"127.0.0.1:{bot_metrics}"]
                with prometheus_server(targets) as prometheus:
                    prometheus.wait_for(
                        "up", lambda up: len(up) == 2 and all(s.value == 1 for s in up)
                    )
                    yield Observed(backend_url, telegram, receiver, prometheus, logs, backend_env)
            finally:
                stop_service(bot)
                stop_service(backend)


def new_telegram_id() -> int:
    return uuid.uuid4().int % 10**12


def create_user(
    url: str, telegram_id: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{url}/users",
        json={"telegram_id": telegram_id},
        headers={**ADMIN, **(headers or {})},
        timeout=10,
    )


def value(prometheus: PrometheusServer, promql: str) -> float:
    samples = prometheus.query(promql)
    return sum(sample.value for sample in samples)


def test_prometheus_counts_the_workload_it_scraped(observed: Observed) -> None:
    """Requests by operation and status class, events handled, no lag, an empty outbox."""
    prometheus = observed.prometheus
    created = 'http_requests_total{operation="create_user",status="2xx"}'
    missing = 'http_requests_total{operation="get_user",status="4xx"}'
    handled = 'events_handled_total{channel="user_registered",group="tg_bot"}'
    before = [value(prometheus, query) for query in (created, missing, handled)]
    users = [new_telegram_id() for _ in range(12)]
    for telegram_id in users:
        assert create_user(observed.backend_url, telegram_id).status_code == 201
    for _ in range(3):
        response = httpx.get(f"{observed.backend_url}/users/{new_telegram_id()}", headers=ADMIN)
        assert response.status_code == 404
    for telegram_id in users:
        observed.telegram.wait_for_messages(telegram_id, 1, timeout=10)
    expected = [before[0] + 12, before[1] + 3, before[2] + 12]
    for query, wanted in zip((created, missing, handled), expected):
        prometheus.wait_for(f"sum({query}) == {wanted}", lambda samples: len(samples) == 1)
    prometheus.wait_for(
        'events_consumer_lag{channel="user_registered"}', lambda lag: [s.value for s in lag] == [0]
    )
    # (tg_bot exports the outbox's gauges too, at 0: it has no outbox.)
    prometheus.wait_for("max(outbox_rows_waiting)", lambda rows: [s.value for s in rows] == [0])
    prometheus.wait_for("db_pool_connections_open", lambda pool: any(s.value > 0 for s in pool))
    latency = 'http_request_duration_seconds_count{operation="create_user"}'
    assert value(prometheus, latency) >= 12


def spans_of_trace(
    receiver: OtlpReceiver, trace_id: str, names: list[str]
) -> dict[str, ReceivedSpan]:
    """Waits for the trace to hold a span of each name; those spans by name."""
    receiver.wait_for_spans(
        lambda span: span.trace_id == trace_id and span.name in names, timeout=20, count=len(names)
    )
    return {span.name: span for span in receiver.trace(trace_id) if span.name in names}


def assert_welcome_trace(receiver: OtlpReceiver, server: ReceivedSpan, stream_prefix: str) -> None:
    """The spans after the request: relay publish -> worker handling -> Telegram call. (A relay
    that failed to publish leaves a publish span with an error status; the one that succeeded is
    the handling's parent.)"""
    stream = f"{stream_prefix}events.user_registered"
    [process] = receiver.wait_for_spans(
        lambda span: span.trace_id == server.trace_id and span.name == f"{stream} process",
        timeout=20,
    )
    assert process.kind == SpanKind.CONSUMER and process.service_name == "tg_bot"
    [publish] = receiver.wait_for_spans(lambda span: span.span_id == process.parent_span_id)
    assert publish.name == "events.user_registered publish" and publish.kind == SpanKind.PRODUCER
    assert publish.service_name == "backend" and publish.parent_span_id == server.span_id
    [send] = receiver.wait_for_spans(
        lambda span: span.parent_span_id == process.span_id and span.kind == SpanKind.CLIENT,
        timeout=20,
    )
    assert send.name == "POST 127.0.0.1" and send.service_name == "tg_bot"
    assert TELEGRAM_TOKEN not in json.dumps(send.attributes)


def test_one_trace_runs_from_the_request_through_the_outbox_to_telegram(
    observed: Observed, stream_prefix: str
) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    response = create_user(
        observed.backend_url,
        new_telegram_id(),
        {"traceparent": f"00-{trace_id}-{caller_span}-01"},
    )
    assert response.status_code == 201
    [server] = spans_of_trace(observed.receiver, trace_id, ["create_user"]).values()
    assert server.kind == SpanKind.SERVER and server.parent_span_id == caller_span
    assert server.service_name == "backend" and server.attributes["http.route"] == "/users"
    assert_welcome_trace(observed.receiver, server, stream_prefix)


@pytest.mark.parametrize(
    "traceparent", ["garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "x" * 5000]
)
def test_a_malformed_traceparent_starts_a_new_trace(observed: Observed, traceparent: str) -> None:
    request_id = uuid.uuid4().hex
    response = create_user(
        observed.backend_url,
        new_telegram_id(),
        {"traceparent": traceparent, "X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text
    [server] = observed.receiver.wait_for_spans(
        lambda span: span.attributes.get("request_id") == request_id, timeout=20
    )
    assert server.name == "create_user" and server.parent_span_id is None


def test_the_trace_survives_the_replica_that_committed_the_row(
    observed: Observed, stream_prefix: str, tmp_path: Path
) -> None:
    """A replica that cannot reach Redis commits the user and its event, exports its request's
    span and is SIGKILLed; the other replica relays the row into the same trace."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    unreachable_redis = f"redis://127.0.0.1:{free_port()}"
    with (tmp_path / "doomed.log").open("w") as log:
        doomed = start_service(
            "backend.main",
            {
                **observed.backend_env,
                "REDIS_URL": unreachable_redis,
                "BACKEND_HOST": "127.0.0.1",
                "BACKEND_PORT": str(port),
            },
            log,
        )
        try:
            wait_until_answering(url, doomed, path="/health/live")
            trace_id = secrets.token_hex(16)
            response = create_user(
                url, new_telegram_id(), {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
            )
            assert response.status_code == 201
            [server] = spans_of_trace(observed.receiver, trace_id, ["create_user"]).values()
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
    assert_welcome_trace(observed.receiver, server, stream_prefix)


def test_a_telegram_command_is_traced_to_the_backend_call_it_makes(
    observed: Observed, stream_prefix: str
) -> None:
    """/start: the update's span -> the worker's handling of command_received -> its typed client's
    POST /users (a client span that carries the context) -> the backend's server span."""
    update = observed.telegram.user_sends(new_telegram_id(), "/start")
    receiver = observed.receiver
    [received] = receiver.wait_for_spans(
        lambda span: span.attributes.get("telegram.update_id") == update["update_id"], timeout=20
    )
    [server] = receiver.wait_for_spans(
        lambda span: span.trace_id == received.trace_id and span.name == "create_user",
        timeout=20,
    )
    [call] = receiver.wait_for_spans(lambda span: span.span_id == server.parent_span_id)
    [process] = receiver.wait_for_spans(lambda span: span.span_id == call.parent_span_id)
    assert call.kind == SpanKind.CLIENT and call.service_name == "tg_bot"
    assert process.name == f"{stream_prefix}events.command_received process"
    assert process.parent_span_id == received.span_id and server.service_name == "backend"


def json_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines_of(log)]


def test_every_line_is_json_with_its_request_or_event_and_no_secret(observed: Observed) -> None:
    request_id = uuid.uuid4().hex
    telegram_id = new_telegram_id()
    response = create_user(observed.backend_url, telegram_id, {"X-Request-ID": request_id})
    assert response.status_code == 201 and response.headers["X-Request-ID"] == request_id
    observed.telegram.wait_for_messages(telegram_id, 1, timeout=10)
    time.sleep(0.5)  # the worker's last lines
    backend, bot = json_lines(observed.logs / "backend.log"), json_lines(
        observed.logs / "tg_bot.log"
    )
    [access] = [line for line in backend if line.get("request_id") == request_id]
    assert access["event"] == "POST /users 201" and access["operation"] == "create_user"
    assert access["subject"] == "admin" and access["trace_id"] and access["duration_ms"] > 0
    handling = [line for line in bot if line.get("stream", "").endswith("events.user_registered")]
    assert handling, "no line of the worker names the event it handled"
    for line in handling:
        assert {"event_id", "group", "attempt", "trace_id"} <= line.keys()
    everything = (observed.logs / "backend.log").read_text() + (
        observed.logs / "tg_bot.log"
    ).read_text()
    private_key = TEST_SERVICE_SIGNING_KEY.to_jwk()["d"]
    assert TELEGRAM_TOKEN not in everything and private_key not in everything
    assert ADMIN["Authorization"].split()[1] not in everything
