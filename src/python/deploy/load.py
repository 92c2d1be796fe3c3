"""A steady HTTP client for the Swarm acceptance test: keeps sending requests from threads of its
own, never retries, and counts every failure (an error status or a broken connection)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

# One request: (method, path, JSON body or None).
Request = tuple[str, str, Any]


@dataclass
class LoadReport:
    sent: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, object]:
        return {"requests": self.sent, "failed": self.failed, "failure_reasons": dict(self.reasons)}

    def describe(self) -> str:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in self.reasons.most_common(5))
        return f"{self.failed} failed of {self.sent}" + (f" ({reasons})" if reasons else "")


class Client:
    """One keep-alive HTTPS connection to Caddy (its internal CA is not trusted here)."""

    def __init__(
        self, host: str, port: int, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._authorization = {"Authorization": f"Bearer {token}"} if token else {}
        self._context = ssl.create_default_context()
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_NONE
        self._connection: http.client.HTTPSConnection | None = None

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, _, data = self.exchange(method, path, body)
        return status, data

    def exchange(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        """The status, headers (names in lower case) and body (JSON decoded) of one request."""
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(self._authorization)
        try:
            self._connection.request(
                method, path, None if body is None else json.dumps(body), headers
            )
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()  # the next request opens a new connection; this one is not retried
            raise
        headers = {name.lower(): value for name, value in response.getheaders()}
        return (
            response.status,
            headers,
            json.loads(data) if data.startswith((b"{", b"[")) else data,
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Load:
    """`workers` threads, each sending `next_request()` about `rate` times a second."""

    def __init__(
        self,
        host: str,
        port: int,
        next_request: Callable[[], Request],
        token: str | None = None,
        workers: int = 4,
        rate: float = 20.0,
    ) -> None:
        self._host, self._port, self._token = host, port, token
        self._next_request = next_request
        self._interval = 1.0 / rate
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.report = LoadReport()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        client = Client(self._host, self._port, self._token)
        while not self._stop.is_set():
            started = time.monotonic()
            method, path, body = self._next_request()
            try:
                status, _ = client.send(method, path, body)
                reason = None if status < 400 else f"{method} HTTP {status}"
            except (OSError, http.client.HTTPException) as error:
                reason = f"{method} {type(error).__name__}"
            with self._lock:
                self.report.sent += 1
                if reason is not None:
                    self.report.failed += 1
                    self.report.reasons[reason] += 1
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))
        client.close()
