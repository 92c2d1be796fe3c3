"""One call that makes a process observable: its logs, its traces and its metrics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from servicekit.logs import configure_logging
from servicekit.metrics import serve_metrics
from servicekit.settings import ObservabilitySettings
from servicekit.tracing import configure_tracing


@contextmanager
def observed_process(
    settings: ObservabilitySettings, service: str, extra_secrets: Iterable[str] = ()
) -> Iterator[None]:
    """Logs in the settings' level and format without the settings' secrets (nor
    `extra_secrets`); spans to the OTLP collector, if one is configured, sent before the process
    ends; /metrics on METRICS_PORT, if set."""
    configure_logging(settings, settings.log_level, settings.log_format, extra_secrets)
    provider = configure_tracing(service)
    serve_metrics(settings.metrics_port)
    try:
        yield
    finally:
        if provider is not None:
            provider.shutdown()
