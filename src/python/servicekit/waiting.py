"""Helpers for starting local servers: a free port to give one."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port of `host` that nothing is bound to now (another process may take it before the
    caller binds it: callers that can retry on another one do). "0.0.0.0" for a port that must be
    free on every address, as one Docker publishes."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
