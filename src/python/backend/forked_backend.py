"""`python -m backend.forked_backend`: the backend (`backend.main`) started again and again, cheaply.

It imports the backend once, then for each line it reads forks a child that runs
`backend.main.main()`, prints the child's pid and, once the child has exited, `exited <status>`.
Tests that kill the backend round after round so pay for uvicorn's start-up, not Python's imports.
"""

from __future__ import annotations

import os
import sys
import traceback

from backend import main as backend_main


def serve_forks() -> None:
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:  # the child: the backend, its output where this process sends its errors
            os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
            status = 0
            try:
                backend_main.main()
            except SystemExit as error:
                status = error.code if isinstance(error.code, int) else 1
            except BaseException:  # noqa: BLE001 - reported, then the child ends as a process would
                traceback.print_exc()
                status = 1
            sys.stdout.flush()
            os._exit(status)  # not the parent's exit handlers: they are the parent's
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exited {status}", flush=True)


if __name__ == "__main__":
    serve_forks()
