"""The goal inside a real Pants engine (RuleRunner): what it writes, and what --check reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from pants.testutil.rule_runner import RuleRunner

from pants_services import register
from pants_services.goals.sync_services import SyncServices
from services.compose import BEGIN_MARKER, END_MARKER, MANAGED_FILES

REGISTRY = "services:\n  - {name: cron, type: default, description: Periodic jobs.}\n"


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = RuleRunner(rules=register.rules())
    section = f"  {BEGIN_MARKER}\n  {END_MARKER}\n"
    runner.write_files(
        {
            "services.yml": REGISTRY,
            "templates/common/BUILDFILE.j2": "python_sources()\n",
            "templates/default/main.py.j2": "print('{{ service.name }}')\n",
            **{managed.path: f"services:\n{section}" for managed in MANAGED_FILES},
        }
    )
    return runner


def read(rule_runner: RuleRunner, path: str) -> str:
    return Path(rule_runner.build_root, path).read_text()


def test_check_lists_what_is_missing_and_writes_nothing(
    rule_runner: RuleRunner,
) -> None:
    result = rule_runner.run_goal_rule(SyncServices, args=["--check"])
    assert result.exit_code == 1
    assert "missing: src/python/cron/main.py" in result.stderr
    assert "out of date: infra/compose.yml (generated section)" in result.stderr
    assert not Path(rule_runner.build_root, "src/python/cron").exists()


def test_sync_writes_then_check_passes(rule_runner: RuleRunner) -> None:
    assert rule_runner.run_goal_rule(SyncServices).exit_code == 0
    assert read(rule_runner, "src/python/cron/main.py") == "print('cron')\n"
    assert "image: specfirst/cron:latest" in read(rule_runner, "infra/compose.yml")
    assert rule_runner.run_goal_rule(SyncServices, args=["--check"]).exit_code == 0


def test_user_code_is_never_overwritten(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({"src/python/cron/main.py": "# mine\n"})
    assert rule_runner.run_goal_rule(SyncServices).exit_code == 0
    assert read(rule_runner, "src/python/cron/main.py") == "# mine\n"
    assert read(rule_runner, "src/python/cron/BUILD") == "python_sources()\n"


def test_registry_errors_name_file_line_and_key(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {"services.yml": "services:\n  - {name: cron, type: cronjob, description: x}\n"}
    )
    result = rule_runner.run_goal_rule(SyncServices)
    assert result.exit_code == 1
    assert "services.yml:2: services[0].type: unknown service type 'cronjob'" in result.stderr
