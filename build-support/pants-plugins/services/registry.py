"""`services.yml`: every service of the repo, its type and how it is deployed, validated strictly.

Errors are `specgen.SpecError`s (file, line, key path, message, hint) collected over the whole file
and raised together as `SpecErrors`, exactly like the spec loader's, through the same public YAML
reader (`specgen.yaml_reader`) and structural checks (`specgen.checks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from specgen.errors import SpecError, SpecErrors
from specgen.checks import (
    Shape,
    describe,
    did_you_mean,
    expect_string,
    is_identifier,
    is_snake_case,
    optional_string,
    string_list,
)
from specgen.yaml_reader import Document, parse_yaml

REGISTRY_FILE = "services.yml"


@dataclass(frozen=True)
class ServiceType:
    name: str
    http_port: Optional[int]  # the port the service answers HTTP on, None for no HTTP
    has_spec: bool  # scaffolded with a domain spec under spec/
    source_root: str = "src/python"  # its folder is <source_root>/<name>/
    python: bool = True  # a Python service: templates/common/ applies, Python probes its health
    site_root: bool = False  # Caddy serves it at / (a web front end) rather than under /<name>/
    # Serves Prometheus metrics (servicekit's) on its own port, METRICS_PORT, which Caddy never proxies.
    metrics: bool = False


SERVICE_TYPES: Dict[str, ServiceType] = {
    service_type.name: service_type
    for service_type in (
        ServiceType("python-fastapi", http_port=8000, has_spec=True, metrics=True),
        ServiceType("python-faststream", http_port=None, has_spec=True, metrics=True),
        ServiceType("default", http_port=None, has_spec=False),
        ServiceType(
            "typescript-web",
            http_port=8080,
            has_spec=True,
            source_root="src/typescript",
            python=False,
            site_root=True,
        ),
    )
}

# Services of infra/compose.yml that registered services may depend on (they are not in the registry).
INFRA_SERVICES = ("postgres", "redis")
# The setting through which a service reaches an infra service it depends on (a secret: its URL
# carries a password), and the one its migration job reaches PostgreSQL with, as the owner.
INFRA_SECRETS = {"postgres": "database_url", "redis": "redis_url"}
DATABASE_OWNER_SECRET = "database_owner_url"

_REGISTRY_FILE = Shape(required=("services",))
_SERVICE = Shape(
    required=("name", "type", "description"),
    optional=(
        "depends_on",
        "profiles",
        "port",
        "replicas",
        "migrate",
        "secrets",
        "env",
    ),
)
_PROFILE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")  # what Compose accepts as a profile name
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Set by every deployment for every Python service (production settings; `pants run` lacks it).
PROFILE_VARIABLE = "PROFILE"
# Set by every deployment for every service that serves metrics: the port they are served on.
METRICS_VARIABLE = "METRICS_PORT"


@dataclass(frozen=True)
class Service:
    name: str
    type: ServiceType
    description: str
    depends_on: Tuple[str, ...] = ()
    profiles: Tuple[str, ...] = ()
    port: Optional[int] = None  # HTTP port inside the container; the type's by default
    replicas: int = 1
    migrate: Tuple[str, ...] = ()  # command run once in the service's image before it starts
    # Settings read from files in /run/secrets (Docker or Kubernetes secrets), never from env vars.
    secrets: Tuple[str, ...] = ()
    # The operator's settings it reads from the environment: only these reach its containers.
    env: Tuple[str, ...] = ()

    @property
    def serves_http(self) -> bool:
        return self.port is not None

    @property
    def folder(self) -> str:
        return f"{self.type.source_root}/{self.name}"

    def wired_variables(self) -> Tuple[str, ...]:
        """Variables the deployments set themselves: the URLs of what it depends on, its port and
        prefix, the profile, the metrics port. An operator's `env` cannot name them."""
        urls = tuple(INFRA_SECRETS.get(name, f"{name}_url").upper() for name in self.depends_on)
        owner = (DATABASE_OWNER_SECRET.upper(),) if "postgres" in self.depends_on else ()
        own = (f"{self.name.upper()}_PORT", f"{self.name.upper()}_ROOT_PATH")
        metrics = (METRICS_VARIABLE,) if self.type.metrics else ()
        return urls + owner + own + (PROFILE_VARIABLE,) + metrics


@dataclass(frozen=True)
class Registry:
    services: Tuple[Service, ...]

    def names(self) -> Tuple[str, ...]:
        return tuple(service.name for service in self.services)


def load_registry(text: str, file: str = REGISTRY_FILE) -> Registry:
    """The registry in `text`; raises SpecErrors listing every problem of the file."""
    errors: List[SpecError] = []
    doc = Document(file, errors)
    root = parse_yaml(doc, text)
    services = _services(doc, root) if root is not None else []
    if errors:
        raise SpecErrors(errors)
    return Registry(tuple(services))


def _services(doc: Document, root: Any) -> List[Service]:
    body = _REGISTRY_FILE.read(doc, (), root)
    if body is None:
        return []
    items = body.get("services")
    if items is None:
        return []
    if not isinstance(items, list):
        doc.error(("services",), f"expected a list, got {describe(items)}")
        return []
    services: List[Service] = []
    first_index: Dict[str, int] = {}
    for index, item in enumerate(items):
        service = _service(doc, ("services", index), item)
        if service is None:
            continue
        if service.name in first_index:
            doc.error(
                ("services", index, "name"),
                f"duplicate service '{service.name}'",
                f"already defined at services[{first_index[service.name]}]",
            )
            continue
        first_index[service.name] = index
        services.append(service)
    _check_dependencies(doc, services, first_index)
    _check_env_not_wired(doc, services, first_index)
    _check_one_site_root(doc, services, first_index)
    return services


def _service(doc: Document, path: Tuple[Any, ...], value: Any) -> Optional[Service]:
    body = _SERVICE.read(doc, path, value)
    if body is None:
        return None
    name = _name(doc, path + ("name",), body.get("name")) if "name" in body else None
    service_type = _type(doc, path + ("type",), body.get("type")) if "type" in body else None
    description = optional_string(doc, path, body, "description")
    profiles = string_list(doc, path + ("profiles",), body.get("profiles"))
    for index, profile in profiles:
        if not _PROFILE.match(profile):
            doc.error(
                path + ("profiles", index),
                f"profile '{profile}' is not a valid Compose profile name",
            )
    port = _port(doc, path, body, service_type)
    replicas = body.get("replicas", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        doc.error(
            path + ("replicas",),
            f"replicas must be a whole number of at least 1, got {describe(replicas)}",
        )
    migrate = string_list(doc, path + ("migrate",), body.get("migrate"))
    depends_on = string_list(doc, path + ("depends_on",), body.get("depends_on"))
    secrets = string_list(doc, path + ("secrets",), body.get("secrets"))
    for index, secret in secrets:
        if not is_snake_case(secret):
            doc.error(
                path + ("secrets", index),
                f"secret '{secret}' must be a setting's name in lower snake case "
                "(the file /run/secrets/<name>)",
            )
    env = _env(doc, path + ("env",), body.get("env"), [secret for _, secret in secrets])
    if name is None or service_type is None or description is None:
        return None
    return Service(
        name=name,
        type=service_type,
        description=description,
        depends_on=tuple(item for _, item in depends_on),
        profiles=tuple(profile for _, profile in profiles),
        port=port,
        replicas=replicas if isinstance(replicas, int) and replicas >= 1 else 1,
        migrate=tuple(item for _, item in migrate),
        secrets=tuple(secret for _, secret in secrets),
        env=env,
    )


def _env(doc: Document, path: Tuple[Any, ...], value: Any, secrets: List[str]) -> Tuple[str, ...]:
    names: List[str] = []
    for index, variable in string_list(doc, path, value):
        if not _VARIABLE.match(variable):
            doc.error(
                path + (index,),
                f"'{variable}' is not an environment variable's name",
                "upper case letters, digits and _, starting with a letter",
            )
        elif variable in names:
            doc.error(path + (index,), f"duplicate variable '{variable}'")
        elif variable.lower() in secrets:
            doc.error(
                path + (index,),
                f"'{variable}' is a secret of this service (secrets: {variable.lower()})",
                "a secret never travels as a plain variable: remove it from env",
            )
        else:
            names.append(variable)
    return tuple(names)


def _name(doc: Document, path: Tuple[Any, ...], value: Any) -> Optional[str]:
    name = expect_string(doc, path, value)
    if name is None:
        return None
    if not (is_identifier(name) and is_snake_case(name)):
        hint = f"write '{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}'" if name else None
        doc.error(
            path,
            f"service name '{name}' is not a lower snake case Python identifier",
            hint,
        )
        return None
    return name


def _type(doc: Document, path: Tuple[Any, ...], value: Any) -> Optional[ServiceType]:
    name = expect_string(doc, path, value)
    if name is None:
        return None
    if name not in SERVICE_TYPES:
        hint = did_you_mean(name, list(SERVICE_TYPES)) or f"one of {', '.join(SERVICE_TYPES)}"
        doc.error(path, f"unknown service type '{name}'", hint)
        return None
    return SERVICE_TYPES[name]


def _port(
    doc: Document, path: Tuple[Any, ...], body: dict, service_type: Optional[ServiceType]
) -> Optional[int]:
    default = service_type.http_port if service_type else None
    if "port" not in body:
        return default
    port = body["port"]
    if service_type is not None and service_type.http_port is None:
        doc.error(
            path + ("port",),
            f"a {service_type.name} service serves no HTTP and has no port",
        )
        return None
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        doc.error(
            path + ("port",),
            f"port must be a number from 1 to 65535, got {describe(port)}",
        )
        return default
    return port


def _check_dependencies(doc: Document, services: List[Service], index_of: Dict[str, int]) -> None:
    known = list(index_of) + list(INFRA_SERVICES)
    for service in services:
        path: Tuple[Any, ...] = ("services", index_of[service.name], "depends_on")
        for position, dependency in enumerate(service.depends_on):
            if dependency == service.name:
                doc.error(path + (position,), f"service '{service.name}' depends on itself")
            elif dependency not in known:
                doc.error(
                    path + (position,),
                    f"unknown service '{dependency}'",
                    did_you_mean(dependency, known) or f"known services: {', '.join(known)}",
                )


def _check_env_not_wired(doc: Document, services: List[Service], index_of: Dict[str, int]) -> None:
    for service in services:
        wired = service.wired_variables()
        for position, variable in enumerate(service.env):
            if variable in wired:
                doc.error(
                    ("services", index_of[service.name], "env", position),
                    f"'{variable}' is set by the deployment itself",
                    f"the deployments set {', '.join(wired)}: remove it from env",
                )


def _check_one_site_root(doc: Document, services: List[Service], index_of: Dict[str, int]) -> None:
    at_root = [service for service in services if service.type.site_root]
    for service in at_root[1:]:
        doc.error(
            ("services", index_of[service.name], "type"),
            f"only one service can be served at the site's root /, and '{at_root[0].name}' is",
            f"a {service.type.name} service is served at /; keep one per site",
        )
