"""Runs every service as its own process, sharing one Redis for their events.

Redis is the one REDIS_URL names, or an embedded real server when it is unset; the backend, the only
service with a database, uses DATABASE_URL or starts its own embedded PostgreSQL. So
`pants run src/python/stack:pex` needs nothing installed. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack

from servicekit.embedded import embedded_redis

# Entry modules, started by name: the stack packages the services, it never imports them.
SERVICES = {"backend": "backend.main", "tg_bot": "tg_bot.main"}


def service_environment(redis_url: str) -> dict[str, str]:
    backend_port = os.environ.get("BACKEND_PORT", "8000")
    return {
        **os.environ,
        # The children find the same modules this process was started with (a pex or a venv).
        "PYTHONPATH": os.pathsep.join(sys.path),
        "REDIS_URL": redis_url,
        "BACKEND_URL": os.environ.get("BACKEND_URL", f"http://127.0.0.1:{backend_port}"),
    }


def main() -> None:
    with ExitStack() as stack:
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis())
        environment = service_environment(redis_url)
        processes = {
            name: subprocess.Popen([sys.executable, "-m", module], env=environment)
            for name, module in SERVICES.items()
        }
        print(f"stack: {', '.join(processes)} running; events on {redis_url}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            exited = _wait_for_any(processes)
            sys.exit(
                f"stack: {exited} exited with {processes[exited].returncode}; stopping the others"
            )
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in processes.values():
                process.wait()


def _wait_for_any(processes: dict[str, subprocess.Popen]) -> str:
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                return name
        time.sleep(0.5)


if __name__ == "__main__":
    main()
