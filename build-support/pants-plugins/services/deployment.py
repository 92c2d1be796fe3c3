"""What every deployment target (Compose, Swarm, Kubernetes) derives alike from the registry.

How services find each other, which settings are secrets, how an HTTP service is probed, what a
container may use, and in which order a rollout goes. The renderers only spell these out in their
own format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Tuple

import yaml

from services.registry import (
    DATABASE_OWNER_SECRET,
    INFRA_SECRETS,
    INFRA_SERVICES,
    METRICS_VARIABLE,
    PROFILE_VARIABLE,
    Registry,
    Service,
)

# Where services read secret settings: one file per setting (servicekit.settings reads them).
SECRETS_DIR = "/run/secrets"
INFRA_PORTS = {"postgres": 5432, "redis": 6379}
# Where a service that serves metrics answers Prometheus: a port of its own, never published and
# never behind Caddy (the metrics are for the operator's Prometheus, not the site's visitors).
METRICS_PORT = 9464
METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class Limits:
    cpus: str  # a decimal number of CPUs
    memory_mib: int


# Per service type; generous enough for the Python services' start-up (imports, migrations).
_LIMITS = {
    "python-fastapi": Limits("1.0", 512),
    "python-faststream": Limits("0.5", 256),
}
_DEFAULT_LIMITS = Limits("0.5", 256)
INFRA_LIMITS = {
    "postgres": Limits("1.0", 1024),
    "redis": Limits("0.5", 256),
    "caddy": Limits("0.5", 128),
}


def limits(service: Service) -> Limits:
    return _LIMITS.get(service.type.name, _DEFAULT_LIMITS)


def secrets(service: Service) -> Tuple[str, ...]:
    """Secret settings of a service: how it reaches its infra, then its own."""
    infra = tuple(INFRA_SECRETS[name] for name in service.depends_on if name in INFRA_SECRETS)
    return infra + tuple(name for name in service.secrets if name not in infra)


def migration_secrets(service: Service) -> Tuple[str, ...]:
    """Secret settings of a service's migration job. With PostgreSQL: the owner's URL, to migrate,
    and the application role's, which the job creates and grants; nothing else."""
    if "postgres" in service.depends_on:
        return (INFRA_SECRETS["postgres"], DATABASE_OWNER_SECRET)
    return secrets(service)


def environment(
    service: Service, registry: Registry, address: Callable[[str], str] = lambda name: name
) -> List[Tuple[str, str]]:
    """Plain (non-secret) settings: the URLs of the HTTP services it calls, its own port and prefix,
    the production profile of a Python service, its metrics port. Its `env` variables come from
    the operator.

    `address` gives the host name under which a service is reached on the target platform.
    """
    by_name = {other.name: other for other in registry.services}
    variables = []
    for name in service.depends_on:
        dependency = by_name.get(name)
        if dependency is not None and dependency.serves_http:
            variables.append((f"{name.upper()}_URL", f"http://{address(name)}:{dependency.port}"))
    if service.serves_http:
        variables.append((f"{service.name.upper()}_PORT", str(service.port)))
    if service.serves_http and not service.type.site_root:
        # The proxy serves it under /<name>/ (the path kept whole): its routes, /docs and the
        # files /docs loads answer under that prefix.
        variables.append((f"{service.name.upper()}_ROOT_PATH", f"/{service.name}"))
    if service.type.python:
        variables.append((PROFILE_VARIABLE, "production"))
    if service.type.metrics:
        variables.append((METRICS_VARIABLE, str(METRICS_PORT)))
    return variables


READY_PATH = "/health/ready"  # a Python service's: 503 while a dependency is down
LIVE_PATH = "/health/live"  # a Python service's: answers while the process serves
WEB_HEALTH_PATH = "/health"  # a web front end's: answers once it serves its files


def ready_path(service: Service) -> str:
    return READY_PATH if service.type.python else WEB_HEALTH_PATH


def live_path(service: Service) -> str:
    return LIVE_PATH if service.type.python else WEB_HEALTH_PATH


def health_probe(service: Service) -> List[str]:
    """A command that succeeds inside the service's image while it is ready."""
    url = f"http://127.0.0.1:{service.port}{ready_path(service)}"
    if service.type.python:
        probe = f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)"
        return ["python3", "-c", probe]
    # A web front end's image has no Python.
    return ["wget", "-q", "-O", "/dev/null", url]


def rollout_phases(registry: Registry, migration_name: Callable[[str], str]) -> List[List[str]]:
    """Groups of services deployed in order: the infra, the migrations, then each service after
    what it depends on (the registry forbids no cycle, so a cycle's members share a phase)."""
    phases: List[List[str]] = [list(INFRA_SERVICES)]
    migrations = [migration_name(s.name) for s in registry.services if s.migrate]
    if migrations:
        phases.append(migrations)
    placed = set(INFRA_SERVICES)
    remaining = list(registry.services)
    while remaining:
        ready = [s for s in remaining if all(d in placed for d in s.depends_on)] or remaining
        phases.append([s.name for s in ready])
        placed.update(s.name for s in ready)
        remaining = [s for s in remaining if s not in ready]
    return phases


def dns_label(name: str) -> str:
    """A registry name as a DNS label (Kubernetes object names): tg_bot -> tg-bot."""
    return name.replace("_", "-")


class Prose(str):
    """A long text (an alert's description): written as a folded block, wrapped at spaces."""


class _Dumper(yaml.SafeDumper):
    """Block style, except a list of plain values (a command, a list of names) on one line, a text
    of several lines as a literal block (an alert's query reads as written) and Prose folded."""


def _represent_list(dumper: yaml.SafeDumper, items: list) -> Any:
    flow = bool(items) and all(isinstance(item, (str, int, float)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> Any:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_prose(dumper: yaml.SafeDumper, text: Prose) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style=">")


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Prose, _represent_prose)


def dump_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)
