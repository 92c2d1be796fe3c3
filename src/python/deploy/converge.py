"""Waiting for Swarm services to converge: every task of the current spec running (healthy), a
one-shot job's run complete, or a failure said plainly (rolled back, job failed, timed out)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from typing import Any

from deploy.docker_cli import docker, inspect, inspect_tasks, lines


class ConvergeError(RuntimeError):
    """A service did not converge; the message names it and says why."""


@dataclass(frozen=True)
class Progress:
    done: bool
    summary: str


def _tasks(service: str) -> list[dict[str, Any]]:
    return inspect_tasks(*lines("service", "ps", "--quiet", "--no-trunc", service))


def _job_progress(spec: dict[str, Any], tasks: list[dict[str, Any]]) -> Progress:
    iteration = spec.get("JobStatus", {}).get("JobIteration", {}).get("Index")
    current = [t for t in tasks if t.get("JobIteration", {}).get("Index") == iteration]
    complete = [t for t in current if t["Status"]["State"] == "complete"]
    wanted = spec["Spec"]["Mode"]["ReplicatedJob"].get("TotalCompletions", 1)
    failed = [t for t in current if t["Status"]["State"] in ("failed", "rejected")]
    attempts = spec["Spec"]["TaskTemplate"].get("RestartPolicy", {}).get("MaxAttempts", 0)
    if len(complete) >= wanted:
        return Progress(True, f"job complete ({len(complete)}/{wanted})")
    if attempts and len(failed) > attempts:
        error = failed[-1]["Status"].get("Err", "")
        raise ConvergeError(f"job failed {len(failed)} times: {error}")
    return Progress(False, f"job running ({len(complete)}/{wanted} complete, {len(failed)} failed)")


def _replicated_progress(spec: dict[str, Any], tasks: list[dict[str, Any]]) -> Progress:
    update = spec.get("UpdateStatus") or {}
    state = update.get("State", "")
    if state in ("rollback_completed", "rollback_paused", "paused"):
        raise ConvergeError(f"update {state}: {update.get('Message', '')}")
    wanted = spec["Spec"]["Mode"]["Replicated"]["Replicas"]
    image = spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    running = [
        t
        for t in tasks
        if t["DesiredState"] == "running"
        and t["Status"]["State"] == "running"
        and t["Spec"]["ContainerSpec"]["Image"] == image
    ]
    others = [t for t in tasks if t["DesiredState"] == "running" and t not in running]
    done = len(running) == wanted and not others and state in ("", "completed")
    return Progress(done, f"{len(running)}/{wanted} running{' ' + state if state else ''}")


def progress(service: str) -> Progress:
    [spec] = inspect(service)
    tasks = _tasks(service)
    if "ReplicatedJob" in spec["Spec"]["Mode"]:
        try:
            return _job_progress(spec, tasks)
        except ConvergeError as error:
            raise ConvergeError(f"{service}: {error}; its last output:\n{_logs(service)}") from None
    return _replicated_progress(spec, tasks)


def _logs(service: str) -> str:
    result = subprocess.run(
        ["docker", "service", "logs", "--raw", "--tail", "15", service],
        capture_output=True,
        text=True,
        check=False,
    )
    return (result.stdout + result.stderr).strip()


def wait_for(services: list[str], timeout: float, say=print) -> float:
    """Waits until every service converged; returns the seconds it took. Raises ConvergeError."""
    start = time.monotonic()
    pending = list(services)
    last: dict[str, str] = {}
    while pending:
        for service in list(pending):
            state = progress(service)
            if state.summary != last.get(service):
                say(f"  {service}: {state.summary}")
                last[service] = state.summary
            if state.done:
                pending.remove(service)
        if pending and time.monotonic() - start > timeout:
            logs = {name: task_errors(name) for name in pending}
            raise ConvergeError(
                f"not converged within {timeout:.0f} s: "
                + "; ".join(f"{name} ({last.get(name)}) {logs[name]}" for name in pending)
            )
        if pending:
            time.sleep(1)
    return time.monotonic() - start


def task_errors(service: str) -> str:
    """The last task errors Swarm recorded for a service, for a failure message."""
    errors = docker("service", "ps", "--no-trunc", "--format", "{{.Error}}", service).split("\n")
    return "; ".join(dict.fromkeys(error for error in errors if error.strip()))[:500]
