"""Processes that clean up on SIGTERM and SIGINT, and serve ASGI apps with uvicorn meanwhile."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Generator, Iterator
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


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGTERM, like SIGINT, raises KeyboardInterrupt while this runs: cleanup code (`finally`,
    exit stacks) runs, and the process ends quietly, with status 0.

    Inside `run_until_signalled`, the signals cancel the running coroutine instead.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_until_signalled(main: Callable[[], Awaitable[None]]) -> None:
    """asyncio.run(main()), where SIGTERM and SIGINT cancel `main` so that its cleanup runs; then
    returns (the process ends with status 0)."""

    async def cancelled_by_signals() -> None:
        task = asyncio.current_task()
        assert task is not None
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
        try:
            await main()
        except asyncio.CancelledError:
            pass

    asyncio.run(cancelled_by_signals())
