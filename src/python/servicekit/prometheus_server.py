"""A real Prometheus server for tests, so metrics are checked the way an operator's Prometheus reads
them (scraped over HTTP, parsed, queried with PromQL) rather than by parsing the text ourselves.

with prometheus_server(["127.0.0.1:9100"]) as prometheus:
    prometheus.wait_for("up", lambda samples: any(s.value == 1 for s in samples))
    rows = prometheus.query('sum by (route) (http_requests_total{job="test"})')
    rows[0].labels["route"], rows[0].value  # e.g. ("/users", 3.0)

Debian's `prometheus` binary is found through build-support/bin/ensure-prometheus (which installs it
when missing), else on PATH. It scrapes and evaluates every second; its data lives in a temporary
directory; the server and anything it started are stopped on exit, even when the test failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from servicekit.waiting import answers_200, free_port, wait_until

# Relative to the working directory: the repository (swarm-acceptance's pex runs there, where this
# file's own path is inside the pex) or a Pants sandbox, which holds it at the same path.
ENSURE_PROMETHEUS = Path("build-support/bin/ensure-prometheus")

_START_ATTEMPTS = 3
_READY_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0


class PrometheusError(RuntimeError):
    """The server did not start, or its API refused a query."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant query's result: a series' labels and its value."""

    labels: dict[str, str]
    value: float


class PrometheusServer:
    """A running server; see `prometheus_server` for starting one."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log
        self._client = httpx.Client(base_url=url, timeout=10.0)

    def query(self, promql: str) -> list[Sample]:
        """Evaluates `promql` now; a scalar answers one sample without labels."""
        data = self._api("/api/v1/query", {"query": promql})
        result = data["result"]
        if data["resultType"] == "vector":
            return [Sample(row["metric"], float(row["value"][1])) for row in result]
        if data["resultType"] == "scalar":
            return [Sample({}, float(result[1]))]
        raise PrometheusError(f"{promql!r} is a {data['resultType']}, not an instant vector")

    def wait_for(
        self,
        promql: str,
        predicate: Callable[[list[Sample]], bool],
        timeout: float = 30.0,
    ) -> list[Sample]:
        """Queries until `predicate` holds for the result, which is returned. On time-out the
        error shows the last result and the targets' scrape errors: usually the reason."""
        deadline = time.monotonic() + timeout
        while True:
            samples = self.query(promql)
            if predicate(samples):
                return samples
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{promql!r}: no matching result within {timeout:.0f} s; last {samples}; "
                    f"targets {self._target_health()}"
                )
            time.sleep(0.25)

    def targets_up(self) -> dict[str, bool]:
        """Each scraped `host:port` and whether its last scrape succeeded (False before any)."""
        return {instance: health == "up" for instance, (health, _) in self._target_health().items()}

    def _target_health(self) -> dict[str, tuple[str, str]]:
        targets = self._api("/api/v1/targets", {"state": "active"})["activeTargets"]
        return {t["labels"]["instance"]: (t["health"], t["lastError"]) for t in targets}

    def _api(self, path: str, params: dict[str, str]) -> Any:
        answer = self._client.get(path, params=params)
        body = answer.json()
        if answer.status_code != 200 or body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {answer.status_code} {body.get('error')}")
        return body["data"]

    def close(self) -> None:
        self._client.close()


@contextmanager
def prometheus_server(
    targets: Sequence[str],
    *,
    job: str = "test",
    metrics_path: str = "/metrics",
    rule_files: Sequence[Path] = (),
) -> Iterator[PrometheusServer]:
    """Starts Prometheus on a free port of 127.0.0.1, scraping `targets` (`host:port`) as `job`
    every second and evaluating `rule_files` every second; waits until it is ready."""
    binary = prometheus_binary()
    with tempfile.TemporaryDirectory(prefix="specfirst-prometheus-") as directory:
        config = Path(directory) / "prometheus.yml"
        config.write_text(_config(targets, job, metrics_path, rule_files))
        server = _start(binary, config, Path(directory))
        try:
            yield server
        finally:
            server.close()
            _stop(server.process)


def prometheus_binary() -> str:
    """The `prometheus` executable: from ensure-prometheus when it is there, else from PATH."""
    if ENSURE_PROMETHEUS.exists():
        found = subprocess.run(
            ["bash", str(ENSURE_PROMETHEUS)], check=True, capture_output=True, text=True
        )
        return str(Path(found.stdout.strip()) / "prometheus")
    binary = shutil.which("prometheus")
    if binary is None:
        raise PrometheusError("no prometheus binary (Debian: apt-get install prometheus)")
    return binary


def _config(targets: Sequence[str], job: str, metrics_path: str, rules: Sequence[Path]) -> str:
    # JSON is YAML: no YAML writer needed. scrape_timeout may not exceed the 1 s interval.
    interval = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    static = [{"targets": list(targets)}]
    scrape = {"job_name": job, "metrics_path": metrics_path, "static_configs": static}
    config = {
        "global": interval,
        "rule_files": [str(path) for path in rules],
        "scrape_configs": [scrape],
    }
    return json.dumps(config, indent=2)


def _start(binary: str, config: Path, directory: Path) -> PrometheusServer:
    # The free port may be taken by a parallel test before Prometheus binds it: another one then.
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = free_port()
        log = directory / f"prometheus-{attempt}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / f'data-{attempt}'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with all it started
            )
        server = PrometheusServer(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_until_ready(server)
            return server
        except BaseException:
            server.close()
            _stop(process)
            if attempt == _START_ATTEMPTS or "address already in use" not in _tail(log):
                raise
    raise AssertionError("unreachable")


def _wait_until_ready(server: PrometheusServer) -> None:
    """Until it answers /-/ready; its log's tail tells why it exited or never got ready."""

    def ready() -> bool:
        if server.process.poll() is not None:
            raise PrometheusError(
                f"prometheus exited with {server.process.returncode}: {_tail(server.log)}"
            )
        return answers_200(f"{server.url}/-/ready")

    try:
        wait_until(ready, _READY_TIMEOUT, "prometheus ready")
    except TimeoutError as error:
        raise PrometheusError(f"{error}: {_tail(server.log)}") from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (Prometheus flushes and exits), SIGKILL after a while; then,
    before the leader is reaped (so its group id cannot be reused), SIGKILL to what is left of it.
    """
    _signal_group(process, signal.SIGTERM)
    if not _exited(process, _STOP_TIMEOUT):
        _signal_group(process, signal.SIGKILL)
        _exited(process, _STOP_TIMEOUT)
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _exited(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether the process exited within `timeout`; it is left a zombie, not reaped."""
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
