"""Starting local servers and waiting for them: a free port to give one, whether one answers, and
polling a check until it holds (a server answering, a queue drained), with a time limit that names
what was awaited.

A check may raise instead of returning false to stop the wait early, e.g. when the process it
waits for has exited.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import httpx

_POLL_INTERVAL = 0.1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port of `host` that nothing is bound to now (another process may take it before the
    caller binds it: callers that can retry on another one do). "0.0.0.0" for a port that must be
    free on every address, as one Docker publishes."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def answers_200(url: str) -> bool:
    """Whether GET `url` answers 200 within a second; false too while nothing listens there."""
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Calls `check` until it returns true; returns the seconds that took. After `timeout` seconds
    raises TimeoutError saying `what` did not happen."""
    start = time.monotonic()
    while not check():
        _give_up_after(start, timeout, what)
        time.sleep(_POLL_INTERVAL)
    return time.monotonic() - start


async def wait_until_async(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str
) -> float:
    """`wait_until` for a check that is a coroutine, sleeping without blocking the event loop (whose
    tasks, a bus's consumers, may be what makes the check true)."""
    start = time.monotonic()
    while not await check():
        _give_up_after(start, timeout, what)
        await asyncio.sleep(_POLL_INTERVAL)
    return time.monotonic() - start


def _give_up_after(start: float, timeout: float, what: str) -> None:
    if time.monotonic() - start > timeout:
        raise TimeoutError(f"{what}: not within {timeout:g} s")
