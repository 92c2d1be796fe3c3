from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from services.monitoring import (
    ALERTS_NAME,
    Alert,
    alert_rules,
    alerts,
    render_alerts,
    render_scrape_config,
    scrape_config,
)
from services.registry import load_registry
from services.swarm import stack

REGISTRY = load_registry("""\
services:
  - {name: backend, type: python-fastapi, description: API., depends_on: [postgres, redis],
     replicas: 3}
  - {name: tg_bot, type: python-faststream, description: Bot., depends_on: [backend, redis],
     replicas: 2}
  - {name: console, type: typescript-web, description: Console.}
  - {name: cron, type: default, description: Jobs.}
""")


def test_each_service_that_serves_metrics_is_a_job_finding_its_replicas_by_dns() -> None:
    jobs = {job["job_name"]: job for job in scrape_config(REGISTRY)["scrape_configs"]}
    assert sorted(jobs) == ["backend", "tg_bot"]  # not the web console, not a generic container
    assert jobs["tg_bot"]["metrics_path"] == "/metrics"
    assert jobs["tg_bot"]["dns_sd_configs"] == [
        {"names": ["tg_bot"], "type": "A", "port": 9464, "refresh_interval": "5s"}
    ]
    assert jobs["tg_bot"]["relabel_configs"] == [
        {"target_label": "service", "replacement": "tg_bot"}
    ]
    assert scrape_config(REGISTRY)["rule_files"] == [ALERTS_NAME]


def test_in_swarm_the_name_resolves_to_every_task_because_every_service_is_dnsrr() -> None:
    services = stack(REGISTRY)["services"]
    for job in scrape_config(REGISTRY)["scrape_configs"]:
        assert services[job["job_name"]]["deploy"]["endpoint_mode"] == "dnsrr"
        assert "ports" not in services[job["job_name"]]  # the metrics port is published nowhere
        assert services[job["job_name"]]["environment"]["METRICS_PORT"] == "9464"


def test_alert_groups_follow_what_the_services_can_produce() -> None:
    assert [name for name, _ in alerts(REGISTRY)] == ["scrape", "http", "events", "outbox"]
    worker = load_registry(
        "services:\n  - {name: w, type: python-faststream, description: W., depends_on: [redis]}\n"
    )
    assert [name for name, _ in alerts(worker)] == ["scrape", "events"]
    assert alert_rules(load_registry("services: []\n")) == {"groups": []}


def test_every_alert_says_what_it_means_and_what_to_do() -> None:
    for _, rules in alerts(REGISTRY):
        for alert in rules:
            assert alert.summary and alert.description.count(". ") >= 1, alert.name
            assert alert.severity in ("critical", "warning")


# --- With Debian's promtool (build-support/bin/ensure-prometheus installs it when missing) ---


@pytest.fixture(scope="module")
def promtool() -> str:
    directory = subprocess.run(
        ["bash", "build-support/bin/ensure-prometheus"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{directory}/promtool"


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    (tmp_path / "prometheus.yml").write_text(render_scrape_config(REGISTRY))
    (tmp_path / ALERTS_NAME).write_text(render_alerts(REGISTRY))
    return tmp_path


def run(promtool: str, *args: str, cwd: Path) -> str:
    result = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_promtool_accepts_the_scrape_config_and_the_rules(promtool: str, rendered: Path) -> None:
    assert "SUCCESS" in run(promtool, "check", "config", "prometheus.yml", cwd=rendered)
    rules = sum(len(group) for _, group in alerts(REGISTRY))
    assert f"SUCCESS: {rules} rules found" in run(
        promtool, "check", "rules", ALERTS_NAME, cwd=rendered
    )


def by_name(name: str) -> Alert:
    return next(alert for _, group in alerts(REGISTRY) for alert in group if alert.name == name)


def fired(name: str, **labels: str) -> Dict[str, object]:
    """What promtool expects of a firing alert: its labels and its annotations, filled in."""
    alert = by_name(name)

    def fill(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {
        "exp_labels": {"severity": alert.severity, **labels},
        "exp_annotations": {"summary": fill(alert.summary), "description": fill(alert.description)},
    }


def series(metric: str, values: str, **labels: str) -> Dict[str, str]:
    inner = ", ".join(
        f'{key}="{value}"' for key, value in {"instance": "10.0.0.2:9464", **labels}.items()
    )
    return {"series": f"{metric}{{{inner}}}", "values": values}


def check(promtool: str, rendered: Path, input_series: List[dict], cases: List[dict]) -> None:
    tests = {
        "rule_files": [ALERTS_NAME],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, "alert_rule_test": cases}],
    }
    (rendered / "alerts_test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    run(promtool, "test", "rules", "alerts_test.yml", cwd=rendered)


def test_the_error_ratio_alert_fires_for_the_failing_operation_only(
    promtool: str, rendered: Path
) -> None:
    requests = "http_requests_total"
    create, listing = (
        {"service": "backend", "operation": name} for name in ("create_user", "list_users")
    )
    check(
        promtool,
        rendered,
        [
            # create_user: 10% of its requests fail; list_users: 1%, under the threshold.
            series(requests, "0+90x30", status="2xx", **create),
            series(requests, "0+10x30", status="5xx", **create),
            series(requests, "0+99x30", status="2xx", **listing),
            series(requests, "0+1x30", status="5xx", **listing),
            series(
                requests, "0+50x30", status="4xx", **listing
            ),  # clients' mistakes count as served
        ],
        [
            {"eval_time": "3m", "alertname": "HTTPErrorRatioHigh", "exp_alerts": []},  # not 5 m yet
            {
                "eval_time": "20m",
                "alertname": "HTTPErrorRatioHigh",
                "exp_alerts": [fired("HTTPErrorRatioHigh", **create)],
            },
        ],
    )


def test_the_dead_letter_alert_fires_for_ten_minutes_after_a_dead_letter(
    promtool: str, rendered: Path
) -> None:
    dead = "events_dead_lettered_total"
    welcome = {"service": "tg_bot", "channel": "user_registered", "group": "tg_bot"}
    command = {"service": "tg_bot", "channel": "command_received", "group": "tg_bot"}
    check(
        promtool,
        rendered,
        [
            # A counter exported at 0 from the start, dead-lettering once at minute 10.
            series(dead, "0x9 1x30", **welcome),
            # A counter whose series appears only with the first dead letter (prometheus_client
            # creates a labelled child on first use), at minute 30 on another replica.
            series(dead, "_x30 1x20", **command, instance="10.0.0.3:9464"),
            # Nothing dead-lettered: never fires.
            series(dead, "0x50", service="tg_bot", channel="other", group="tg_bot"),
        ],
        [
            {"eval_time": "5m", "alertname": "EventsDeadLettered", "exp_alerts": []},
            {
                "eval_time": "12m",
                "alertname": "EventsDeadLettered",
                "exp_alerts": [fired("EventsDeadLettered", **welcome)],
            },
            {"eval_time": "25m", "alertname": "EventsDeadLettered", "exp_alerts": []},
            {
                "eval_time": "32m",
                "alertname": "EventsDeadLettered",
                "exp_alerts": [fired("EventsDeadLettered", **command)],
            },
            {"eval_time": "45m", "alertname": "EventsDeadLettered", "exp_alerts": []},
        ],
    )


def test_the_outbox_alert_fires_when_its_oldest_row_ages(promtool: str, rendered: Path) -> None:
    check(
        promtool,
        rendered,
        [
            # Three replicas report the same table; the relay stops at minute 10.
            *(
                series("outbox_oldest_age_seconds", "0x10 60+60x20", service="backend", instance=i)
                for i in ("10.0.0.2:9464", "10.0.0.3:9464", "10.0.0.4:9464")
            ),
        ],
        [
            {"eval_time": "9m", "alertname": "OutboxBacklogOld", "exp_alerts": []},
            {
                "eval_time": "15m",
                "alertname": "OutboxBacklogOld",
                "exp_alerts": [fired("OutboxBacklogOld", service="backend")],
            },
        ],
    )
