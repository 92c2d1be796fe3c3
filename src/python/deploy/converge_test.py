from __future__ import annotations

from typing import Any

import pytest

from deploy.converge import ConvergeError, _job_progress, _replicated_progress


def service(replicas: int = 2, image: str = "app:2", update: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Spec": {
            "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": image}},
        }
    }
    if update:
        spec["UpdateStatus"] = {"State": update, "Message": "update rolled back"}
    return spec


def task(state: str, image: str = "app:2", desired: str = "running") -> dict[str, Any]:
    return {
        "DesiredState": desired,
        "Status": {"State": state},
        "Spec": {"ContainerSpec": {"Image": image}},
    }


def test_converged_when_every_replica_of_the_current_image_runs() -> None:
    tasks = [task("running"), task("running"), task("shutdown", "app:1", "shutdown")]
    assert _replicated_progress(service(), tasks).done


def test_not_converged_while_an_old_task_still_runs_or_a_new_one_starts() -> None:
    assert not _replicated_progress(service(), [task("running"), task("running", "app:1")]).done
    assert not _replicated_progress(service(), [task("running"), task("starting")]).done
    assert not _replicated_progress(service(update="updating"), [task("running")] * 2).done


def test_a_rolled_back_update_is_a_failure() -> None:
    with pytest.raises(ConvergeError, match="rollback_completed: update rolled back"):
        _replicated_progress(service(update="rollback_completed"), [task("running")] * 2)


def job(iteration: int, attempts: int = 3) -> dict[str, Any]:
    return {
        "Spec": {
            "Mode": {"ReplicatedJob": {"TotalCompletions": 1}},
            "TaskTemplate": {"RestartPolicy": {"MaxAttempts": attempts}},
        },
        "JobStatus": {"JobIteration": {"Index": iteration}},
    }


def job_task(iteration: int, state: str, error: str = "") -> dict[str, Any]:
    return {"JobIteration": {"Index": iteration}, "Status": {"State": state, "Err": error}}


def test_a_job_is_done_when_its_current_run_completed() -> None:
    # The previous rollout's completed run does not count for this one.
    assert not _job_progress(job(8), [job_task(7, "complete"), job_task(8, "running")]).done
    assert _job_progress(job(8), [job_task(7, "complete"), job_task(8, "complete")]).done


def test_a_job_that_failed_more_than_its_attempts_is_a_failure() -> None:
    failures = [job_task(8, "failed", "task: non-zero exit (1)")] * 4
    with pytest.raises(ConvergeError, match=r"job failed 4 times: task: non-zero exit \(1\)"):
        _job_progress(job(8), failures)
