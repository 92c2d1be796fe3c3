"""The services' Prometheus metrics, named after the spec's operations and channels.

Every process records into prometheus_client's default registry; `serve_metrics` exposes it on a
port of its own (METRICS_PORT), which the reverse proxy in front of the API never serves. Label
values are bounded: operation ids and route templates from the spec, channel and group names,
status classes, failure kinds; never raw paths or ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Gauge, Histogram, start_http_server

logger = logging.getLogger(__name__)

# Requests (servicekit.request_observer; in flight: servicekit.strict_json's route class).
HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by spec operation and status class",
    ["operation", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to its response's end, by spec operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight", "Requests being handled, by spec operation", ["operation"]
)

# Events (servicekit.events.delivery; lag and pending: EventBus.sample_consumer_lag).
EVENTS_HANDLED = Counter(
    "events_handled",
    "Events handled successfully, by channel and consumer group",
    ["channel", "group"],
)
EVENTS_FAILED = Counter(
    "events_failed",
    "Failed event handlings, by kind: permanent, retry_after, transient or malformed",
    ["channel", "group", "failure"],
)
EVENTS_DEAD_LETTERED = Counter(
    "events_dead_lettered", "Events moved to the dead-letter stream", ["channel", "group"]
)
EVENT_DURATION = Histogram(
    "event_handling_duration_seconds",
    "Time a handler took with an event, whatever its outcome",
    ["channel", "group"],
)
CONSUMER_LAG = Gauge(
    "events_consumer_lag", "Stream entries not yet delivered to the group", ["channel", "group"]
)
PENDING = Gauge(
    "events_pending",
    "Entries delivered to the group and not yet acknowledged",
    ["channel", "group"],
)

# The outbox (servicekit.events.relay).
OUTBOX_WAITING = Gauge("outbox_rows_waiting", "Committed events not yet relayed to their streams")
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds", "Age of the oldest event waiting in the outbox (0: none)"
)
OUTBOX_BATCHES = Counter("outbox_relay_batches", "Batches the relay appended to the streams")
OUTBOX_RELAYED = Counter("outbox_relayed_events", "Events the relay appended to the streams")
OUTBOX_FAILURES = Counter("outbox_relay_failures", "Relay rounds that failed (the rows stayed)")

# The dependencies (servicekit.database, servicekit.errors).
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections checked out of the pool now"
)
DB_POOL_OPEN = Gauge("db_pool_connections_open", "Database connections the pool holds open")
DEPENDENCY_UNAVAILABLE = Counter(
    "dependency_unavailable",
    "Requests answered 503 because a dependency failed or did not answer in time (a pool "
    "checkout timeout is sqlalchemy's TimeoutError), by error class",
    ["error"],
)


def serve_metrics(port: int | None) -> None:
    """Serves /metrics on `port` (all interfaces) from a thread; nothing when `port` is None."""
    if port is not None:
        start_http_server(port)
        logger.info("metrics on port %d", port, extra={"metrics_port": port})


async def sample_every(interval: float, sample: Callable[[], Awaitable[None]]) -> None:
    """Calls `sample` every `interval` seconds until cancelled; a failure is logged, not raised
    (Redis or the database down leaves the gauges at their last value)."""
    while True:
        try:
            await sample()
        except Exception as error:  # noqa: BLE001
            logger.debug("sampling metrics: %s: %s", type(error).__name__, error)
        await asyncio.sleep(interval)
