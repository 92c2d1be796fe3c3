"""Serving an ASGI app with uvicorn inside a process that handles its own signals."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn


class _Server(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and SIGINT to its process.

    uvicorn's own handlers re-raise the signal after shutting down, so a process that cleans up on
    it (stopping what it started) would race uvicorn's shutdown instead of following it.
    """

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(config: uvicorn.Config) -> None:
    """Serves until cancelled; then shuts down gracefully (open requests end, lifespan shutdown
    runs) and re-raises the cancellation."""
    server = _Server(config)
    serving = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
