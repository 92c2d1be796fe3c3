"""wrk, the load generator the benchmark drives from outside the servers: installed from Debian's
package when missing, run with a Lua script, its figures read from its report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass


@dataclass
class Run:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package first if it is missing."""
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            sys.exit("bench_api: wrk is missing; install it (Debian: apt-get install -y wrk)")
        print("bench_api: installing wrk (apt-get install -y wrk)", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    return shutil.which("wrk") or sys.exit("bench_api: wrk did not install")


def run_wrk(wrk: str, url: str, script: str, seconds: float, connections: int) -> Run:
    """`wrk -t2 -c<connections>` for `seconds` against `url`, requests made by the Lua `script`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [wrk, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", lua.name]
        output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return Run(
        requests=int(_find(r"(\d+) requests in", output)),
        rps=float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_milliseconds(_find(r"\s50%\s+(\S+)", output)),
        p99_ms=_milliseconds(_find(r"\s99%\s+(\S+)", output)),
        errors=int(_find(r"Non-2xx or 3xx responses:\s+(\d+)", output, "0"))
        + sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)),
    )


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise RuntimeError(f"no {pattern!r} in wrk's output:\n{text}")
        return default
    return match.group(1)


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
