"""Liveness and readiness endpoints.

`/health/live` answers while the process serves HTTP, whatever its dependencies do: an orchestrator
restarts a process that fails it. `/health/ready` checks each dependency by name and answers 503
while any is down or slow, so that traffic goes elsewhere; it says which, never how (no driver
text, hosts or ports: those go to the log).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from servicekit.errors import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"


def add_health_routes(app: FastAPI, checks: Mapping[str, Check], timeout: float) -> None:
    """Readiness answers within `timeout` seconds: a check still running then counts as down."""

    @app.get(LIVE_PATH, include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get(READY_PATH, include_in_schema=False)
    async def ready() -> JSONResponse:
        states = await check_all(checks, timeout)
        up = all(state == "ok" for state in states.values())
        return JSONResponse(
            {"status": "ok" if up else "unavailable", "checks": states},
            status_code=200 if up else 503,
            # As every other 503 says when to try again (servicekit.errors).
            headers=None if up else {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


async def check_all(checks: Mapping[str, Check], timeout: float) -> dict[str, str]:
    """ "ok" or "unavailable" per check, after `timeout` seconds at most."""
    if not checks:
        # A service with no dependencies is ready when it serves (asyncio.wait refuses no tasks).
        return {}
    tasks = {name: asyncio.ensure_future(check()) for name, check in checks.items()}
    await asyncio.wait(tasks.values(), timeout=timeout)
    states = {}
    for name, task in tasks.items():
        if not task.done():
            # Not awaited: a hung dependency may not even let the cancellation finish in time.
            task.cancel()
            task.add_done_callback(_discard_outcome)
            logger.warning("readiness: %s did not answer within %ss", name, timeout)
            states[name] = "unavailable"
        elif task.exception() is not None:
            logger.warning("readiness: %s unavailable: %r", name, task.exception())
            states[name] = "unavailable"
        else:
            states[name] = "ok"
    return states


def _discard_outcome(task: asyncio.Future[object]) -> None:
    if not task.cancelled():
        task.exception()
