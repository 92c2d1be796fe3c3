"""A real Prometheus scrapes a real exposition server and its query API returns the exact counts;
the server is gone after the block, also when the block failed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from servicekit.prometheus_server import (
    ENSURE_PROMETHEUS,
    PrometheusServer,
    Sample,
    prometheus_binary,
    prometheus_server,
)


@contextmanager
def exposition_server(registry: CollectorRegistry) -> Iterator[str]:
    """prometheus_client's own HTTP server on a port the system picks; yields `host:port`."""
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def equals(value: float) -> Callable[[list[Sample]], bool]:
    """One series, of this value."""
    return lambda samples: [sample.value for sample in samples] == [value]


def test_prometheus_finds_the_exact_count_a_process_exposes() -> None:
    registry = CollectorRegistry()
    handled = Counter("fixture_handled", "Events handled.", ["channel"], registry=registry)
    for _ in range(7):
        handled.labels(channel="users.created").inc()

    with exposition_server(registry) as target, prometheus_server([target]) as prometheus:
        [sample] = prometheus.wait_for("fixture_handled_total", equals(7.0))
        assert sample.labels == {
            "__name__": "fixture_handled_total",
            "channel": "users.created",
            "instance": target,
            "job": "test",
        }
        assert prometheus.targets_up() == {target: True}

        handled.labels(channel="users.created").inc(3)  # later scrapes see the new value
        prometheus.wait_for('sum(fixture_handled_total{job="test"})', equals(10.0))
        assert prometheus.query("scalar(sum(fixture_handled_total))") == [Sample({}, 10.0)]


def test_an_unreachable_target_is_reported_down() -> None:
    with prometheus_server(["127.0.0.1:1"]) as prometheus:
        prometheus.wait_for('up{instance="127.0.0.1:1"}', equals(0.0))
        assert prometheus.targets_up() == {"127.0.0.1:1": False}


def test_the_server_stops_even_when_the_block_fails() -> None:
    started: list[PrometheusServer] = []
    with pytest.raises(RuntimeError, match="the test failed"):
        with prometheus_server([]) as prometheus:
            started.append(prometheus)
            assert prometheus.query("vector(1)") == [Sample({}, 1.0)]
            raise RuntimeError("the test failed")
    [prometheus] = started
    assert prometheus.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(prometheus.process.pid, 0)  # nothing of its process group is left


def test_the_binary_comes_through_the_repos_installer() -> None:
    # The installer is in the test's sandbox, so a machine without Prometheus gets it.
    assert ENSURE_PROMETHEUS.is_file()
    assert os.access(prometheus_binary(), os.X_OK)
