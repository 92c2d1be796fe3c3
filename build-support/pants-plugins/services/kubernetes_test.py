from __future__ import annotations

import yaml

from services.kubernetes import manifests, render_manifests
from services.registry import load_registry

REGISTRY = load_registry("""\
services:
  - {name: backend, type: python-fastapi, description: API., depends_on: [postgres, redis],
     replicas: 3, migrate: [/app/bin/python, -m, backend.alembic_cli, upgrade, head]}
  - {name: tg_bot, type: python-faststream, description: Bot., depends_on: [backend, redis],
     secrets: [telegram_bot_token]}
""")


def documents() -> dict[tuple[str, str], dict]:
    return {
        (document["kind"], document["metadata"]["name"]): document
        for document in yaml.safe_load_all(render_manifests(REGISTRY))
    }


def test_every_kind_the_registry_calls_for() -> None:
    assert sorted(documents()) == sorted(
        [
            ("Job", "backend-migrate"),
            ("Deployment", "backend"),
            ("Service", "backend"),
            ("PodDisruptionBudget", "backend"),
            ("HorizontalPodAutoscaler", "backend"),
            ("Deployment", "tg-bot"),
            ("PodDisruptionBudget", "tg-bot"),
            ("HorizontalPodAutoscaler", "tg-bot"),
            ("Ingress", "specfirst"),
            ("NetworkPolicy", "default-deny"),
            ("NetworkPolicy", "backend"),
            ("NetworkPolicy", "backend-migrate"),
            ("NetworkPolicy", "tg-bot"),
        ]
    )


def test_replicas_become_the_deployment_and_the_autoscalers_floor() -> None:
    backend = documents()[("Deployment", "backend")]["spec"]
    assert backend["replicas"] == 3
    assert backend["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    autoscaler = documents()[("HorizontalPodAutoscaler", "backend")]["spec"]
    assert (autoscaler["minReplicas"], autoscaler["maxReplicas"]) == (3, 9)


def test_secrets_are_mounted_files_of_only_the_services_own_keys() -> None:
    pod = documents()[("Deployment", "tg-bot")]["spec"]["template"]["spec"]
    [secret] = [volume for volume in pod["volumes"] if "secret" in volume]
    assert [item["key"] for item in secret["secret"]["items"]] == [
        "redis_url",
        "telegram_bot_token",
    ]
    container = pod["containers"][0]
    assert {"name": "secrets", "mountPath": "/run/secrets", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert [variable["name"] for variable in container["env"]] == [
        "BACKEND_URL",
        "PROFILE",
        "METRICS_PORT",
    ]


def test_an_http_pod_serves_on_until_the_ingress_has_dropped_it() -> None:
    backend = documents()[("Deployment", "backend")]["spec"]["template"]["spec"]
    assert backend["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    bot = documents()[("Deployment", "tg-bot")]["spec"]["template"]["spec"]
    assert "lifecycle" not in bot["containers"][0]


def test_the_migration_job_alone_mounts_the_owners_url() -> None:
    job = documents()[("Job", "backend-migrate")]["spec"]["template"]["spec"]
    [secret] = [volume for volume in job["volumes"] if "secret" in volume]
    assert [item["key"] for item in secret["secret"]["items"]] == [
        "database_url",
        "database_owner_url",
    ]
    backend = documents()[("Deployment", "backend")]["spec"]["template"]["spec"]
    [secret] = [volume for volume in backend["volumes"] if "secret" in volume]
    assert "database_owner_url" not in [item["key"] for item in secret["secret"]["items"]]


def test_a_services_own_settings_come_from_the_config_map_by_name() -> None:
    registry = load_registry("""services:
  - {name: worker, type: python-faststream, description: W., env: [EVENTS_CLAIM_IDLE]}
""")
    [deployment] = [d for d in manifests(registry) if d["kind"] == "Deployment"]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "PROFILE", "value": "production"},
        {"name": "METRICS_PORT", "value": "9464"},
        {
            "name": "EVENTS_CLAIM_IDLE",
            "valueFrom": {
                "configMapKeyRef": {
                    "name": "specfirst-settings",
                    "key": "EVENTS_CLAIM_IDLE",
                    "optional": True,
                }
            },
        },
    ]


def test_network_policies_allow_only_the_declared_edges() -> None:
    backend = documents()[("NetworkPolicy", "backend")]["spec"]
    callers = [peer["podSelector"]["matchLabels"] for peer in backend["ingress"][0]["from"]]
    assert callers == [{"app.kubernetes.io/name": "tg-bot"}]
    assert [rule["ports"][0]["port"] for rule in backend["egress"]] == [5432, 6379]
    bot = documents()[("NetworkPolicy", "tg-bot")]["spec"]
    # Nothing calls the bot; only the cluster's Prometheus scrapes it.
    assert bot["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    }
                }
            ],
            "ports": [{"port": 9464}],
        }
    ]
    assert bot["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "backend"
    }
    deny = documents()[("NetworkPolicy", "default-deny")]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"]


def test_the_ingress_routes_each_http_service_under_its_name() -> None:
    [rule] = documents()[("Ingress", "specfirst")]["spec"]["rules"]
    assert [path["path"] for path in rule["http"]["paths"]] == ["/backend"]


def test_pods_that_serve_metrics_are_annotated_for_prometheus_on_a_named_port() -> None:
    for name in ("backend", "tg-bot"):
        template = documents()[("Deployment", name)]["spec"]["template"]
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "9464",
            "prometheus.io/path": "/metrics",
        }
        [container] = template["spec"]["containers"]
        assert {"name": "metrics", "containerPort": 9464} in container["ports"]
    # The metrics port is no Service's and no Ingress': only Prometheus reaches it, pod by pod.
    assert [port["name"] for port in documents()[("Service", "backend")]["spec"]["ports"]] == [
        "http"
    ]
