"""Runs every service as its own process, sharing one Redis for their events.

Without REDIS_URL / DATABASE_URL the services use the machine's shared embedded servers
(servicekit.shared_stack), as they do when started one by one, so `pants run src/python/stack:pex`
needs nothing installed. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

# Entry modules, started by name: the stack packages the services, it never imports them.
SERVICES = {"backend": "backend.main", "tg_bot": "tg_bot.main"}


def service_environment() -> dict[str, str]:
    backend_port = os.environ.get("BACKEND_PORT", "8000")
    return {
        **os.environ,
        # The children find the same modules this process was started with (a pex or a venv).
        "PYTHONPATH": os.pathsep.join(sys.path),
        "BACKEND_URL": os.environ.get("BACKEND_URL", f"http://127.0.0.1:{backend_port}"),
    }


def main() -> None:
    environment = service_environment()
    processes = {
        name: subprocess.Popen([sys.executable, "-m", module], env=environment)
        for name, module in SERVICES.items()
    }
    print(f"stack: {', '.join(processes)} running", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        exited = _wait_for_any(processes)
        sys.exit(f"stack: {exited} exited with {processes[exited].returncode}; stopping the others")
    except KeyboardInterrupt:
        pass
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
