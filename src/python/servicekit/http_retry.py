"""When a service client may send a request again, and how long it waits before it does.

A request is repeated only when repeating it cannot do twice what was asked once: GET, HEAD, PUT,
DELETE and OPTIONS are idempotent, a POST or PATCH is only with an `Idempotency-Key` header (the
server then answers a repeat with the first outcome). Those are retried after a connection error,
a timeout, a 502/503/504 or a 409 with Retry-After (a key still in use), with exponential backoff
and jitter or after the server's `Retry-After`. Any request is retried when it never left: the connection could not be made.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
IDEMPOTENCY_KEY = "idempotency-key"
# Answers of a gateway or an overloaded server: the request may succeed when sent again.
RETRIED_STATUSES = frozenset({502, 503, 504})
# A request with an Idempotency-Key whose first sending still runs (servicekit.idempotency): its
# answer comes to a later repeat. Without Retry-After a 409 is a conflict, final.
KEY_IN_USE = 409


def retried_answer(response: httpx.Response) -> bool:
    """Whether an answer asks for the request again: a 502/503/504, or a 409 with Retry-After
    (whether the request may be repeated at all is `may_repeat`'s)."""
    status = response.status_code
    return status in RETRIED_STATUSES or (
        status == KEY_IN_USE and "retry-after" in response.headers
    )


# The request was never sent, so sending it cannot repeat it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryableAnswer(Exception):
    """A `retried_answer`, raised inside the retry loop so that tenacity sees it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} from {response.request.url}")
        self.response = response


def may_repeat(method: str, headers: Mapping[str, str] | None) -> bool:
    """Whether sending the request twice does what sending it once does."""
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return any(name.lower() == IDEMPOTENCY_KEY for name in headers or ())


def retry_after(response: httpx.Response) -> float | None:
    """The seconds the server's Retry-After header asks for (a number or an HTTP date), if any."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when.tzinfo else None


class RetryPolicy:
    """At most `retries` repeats, waiting `backoff` seconds doubled each time (plus jitter), or
    what Retry-After asks for; gives up rather than wait longer than `max_wait` at once."""

    def __init__(self, retries: int = 3, backoff: float = 0.1, max_wait: float = 10.0) -> None:
        self.retries = retries
        self.max_wait = max_wait
        self._backoff = wait_exponential_jitter(multiplier=backoff, max=max_wait, jitter=backoff)

    def retrying(self, method: str, headers: Mapping[str, str] | None) -> AsyncRetrying:
        """The retry loop for one request: `async for attempt in ...: with attempt: send`."""
        repeatable = may_repeat(method, headers)

        def retried(error: BaseException) -> bool:
            if isinstance(error, NOT_SENT):
                return True
            return repeatable and isinstance(error, (httpx.TransportError, RetryableAnswer))

        return AsyncRetrying(
            retry=retry_if_exception(retried),
            wait=self._wait,
            stop=stop_after_attempt(self.retries + 1) | _WaitsLongerThan(self.max_wait),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after(error.response) if isinstance(error, RetryableAnswer) else None
        return self._backoff(state) if asked is None else asked


class _WaitsLongerThan(stop_base):
    """Stops rather than wait longer than `seconds` before the next attempt."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self.seconds
