"""Waiting at start-up for a broker or database that is not answering yet.

Retried with exponential backoff up to a time limit, with one log line when the wait begins; past
the limit `Unreachable` says what did not answer, and `exit_when_unreachable` ends the process with
that one line instead of a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from tenacity import (
    AsyncRetrying,
    Future,
    RetryCallState,
    RetryError,
    stop_after_delay,
    wait_exponential,
)

logger = logging.getLogger(__name__)

# Seconds one attempt may take (at most half the limit, so that a retry follows): a hung server
# must not hold start-up beyond its limit.
_ATTEMPT_TIMEOUT = 5.0


class Unreachable(RuntimeError):
    """A server the process needs did not answer within the start-up limit."""


async def wait_until_reachable(
    what: str, check: Callable[[], Awaitable[object]], timeout: float
) -> None:
    """Calls `check` until it returns, for at most `timeout` seconds; else raises Unreachable.

    `what` names the server for people, e.g. "Redis (REDIS_URL)". A server that accepts the
    connection but never answers (hung) fails each attempt after a few seconds, like one that
    refuses it.
    """

    def announce(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            logger.warning(
                "%s does not answer (%s); retrying for up to %.0fs",
                what,
                _reason(state.outcome),
                timeout,
            )

    retrying = AsyncRetrying(
        stop=stop_after_delay(timeout),
        wait=wait_exponential(multiplier=0.25, max=5),
        before_sleep=announce,
    )
    try:
        async for attempt in retrying:
            with attempt:
                await asyncio.wait_for(
                    check(), timeout=min(_ATTEMPT_TIMEOUT, max(timeout / 2, 0.1))
                )
    except RetryError as error:
        raise Unreachable(
            f"{what} did not answer within {timeout:.0f}s: {_reason(error.last_attempt)}"
        ) from None


def _reason(outcome: Future | None) -> str:
    error = outcome.exception() if outcome is not None else None
    return f"{type(error).__name__}: {error}"


@contextmanager
def exit_when_unreachable(program: str) -> Iterator[None]:
    """Turns Unreachable into the end of the process: `program: what did not answer`, exit 1."""
    try:
        yield
    except Unreachable as error:
        sys.exit(f"{program}: {error}")
