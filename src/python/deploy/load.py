"""A steady HTTP client for the Swarm acceptance test: keeps sending requests from threads of its
own and counts every failure (an error status or a broken connection).

Key-less, it never retries: what one request meets is what a client meets. Keyed, it is what a
careful client does: each POST carries an Idempotency-Key, and a request that met no answer or a
502/503/504 is sent again (the same key) a few times, as servicekit's clients do."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

# One request: (method, path, JSON body or None).
Request = tuple[str, str, Any]


# A keyed client's repeats of one request, and the first wait between them (doubled each time).
KEYED_ATTEMPTS, KEYED_BACKOFF_SECONDS = 6, 0.2
RETRIED_STATUSES = (502, 503, 504)


@dataclass
class LoadReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0  # repeats a keyed client sent
    reasons: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, object]:
        return {
            "requests": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "failure_reasons": dict(self.reasons),
        }

    def describe(self) -> str:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in self.reasons.most_common(5))
        retried = f", {self.retried} retried" if self.retried else ""
        return f"{self.failed} failed of {self.sent}{retried}" + (
            f" ({reasons})" if reasons else ""
        )


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

    def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        status, _, data = self.exchange(method, path, body, headers)
        return status, data

    def exchange(
        self, method: str, path: str, body: Any = None, extra: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """The status, headers (names in lower case) and body (JSON decoded) of one request."""
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._context
            )
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(self._authorization)
        headers.update(extra or {})
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
        keyed: bool = False,
    ) -> None:
        self._host, self._port, self._token = host, port, token
        self._keyed = keyed
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
            reason, repeats = self._send(client, method, path, body)
            with self._lock:
                self.report.sent += 1
                self.report.retried += repeats
                if reason is not None:
                    self.report.failed += 1
                    self.report.reasons[reason] += 1
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))
        client.close()

    def _send(self, client: Client, method: str, path: str, body: Any) -> tuple[str | None, int]:
        """Why the request failed (None: it did not), and how many times it was sent again."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if self._keyed and method == "POST" else {}
        attempts = KEYED_ATTEMPTS if self._keyed else 1
        for attempt in range(attempts):
            try:
                status, _ = client.send(method, path, body, headers)
            except (OSError, http.client.HTTPException) as error:
                reason = f"{method} {type(error).__name__}"
            else:
                if status < 400:
                    return None, attempt
                reason = f"{method} HTTP {status}"
                if status not in RETRIED_STATUSES:
                    return reason, attempt
            if attempt + 1 < attempts:
                time.sleep(KEYED_BACKOFF_SECONDS * 2**attempt)
        return reason, attempts - 1
