"""What `pants sync-services` does, as data: the files to create or update and what to report.

Pure: the caller reads the inputs and writes the outputs (the Pants goal does both through the
engine), so `--check` and the writing run share one decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import AbstractSet, Callable, Dict, List, Mapping, Optional, Tuple

from services.compose import COMPOSE_FILE, render_all, services_in_compose
from services.kubernetes import MANIFESTS_FILE, render_manifests
from services.monitoring import ALERTS_FILE, SCRAPE_CONFIG_FILE, render_alerts, render_scrape_config
from services.registry import REGISTRY_FILE, Registry, Service
from services.scaffold import render_partial, render_service, stored_model, stores
from specgen import load
from specgen.generators.migration import render_initial_migration
from services.swarm import STACK_FILE, render_stack

# The shared models, where a service that stores data gets the model its scaffold keeps.
MODELS_FILE = "shared/spec/models.yaml"

# Files rendered whole from the registry (the managed files of compose.py hold one section).
GENERATED_FILES: Dict[str, Callable[[Registry], str]] = {
    STACK_FILE: render_stack,
    MANIFESTS_FILE: render_manifests,
    SCRAPE_CONFIG_FILE: render_scrape_config,
    ALERTS_FILE: render_alerts,
}


@dataclass(frozen=True)
class SyncPlan:
    new_files: Dict[str, str]  # files of services to scaffold; none of them exists
    updated_files: Dict[str, str]  # managed infra files whose generated section changes
    unregistered: Tuple[str, ...]  # deployed by compose.yml but gone from the registry

    def files_to_write(self) -> Dict[str, str]:
        return {**self.new_files, **self.updated_files}

    def report(self) -> List[str]:
        lines = [f"missing: {path}" for path in sorted(self.new_files)]
        lines += [
            f"out of date: {path}" + ("" if path in GENERATED_FILES else " (generated section)")
            for path in sorted(self.updated_files)
            if path != MODELS_FILE
        ]
        if MODELS_FILE in self.updated_files:
            lines.append(f"missing: the models the new services store, in {MODELS_FILE}")
        lines += [
            f"unregistered: {name} is no longer in {REGISTRY_FILE}; its section of {COMPOSE_FILE} is "
            f"dropped, its folder is kept (delete it by hand if it should go)"
            for name in self.unregistered
        ]
        return lines


def scaffolded(registry: Registry, existing_files: AbstractSet[str]) -> Tuple[str, ...]:
    """Registered services with a BUILD file: they belong to their authors and are never touched."""
    return tuple(
        service.name for service in registry.services if f"{service.folder}/BUILD" in existing_files
    )


def plan_sync(
    registry: Registry,
    templates: Mapping[str, str],
    managed_texts: Mapping[str, str],
    existing_files: AbstractSet[str],
    models_text: Optional[str] = None,
) -> SyncPlan:
    """Raises SectionError for a managed file without its markers, SpecErrors for a stored
    service whose spec does not load.

    `managed_texts` holds the managed files and those of GENERATED_FILES that exist;
    `existing_files` every existing file under the registered services' folders; `models_text`
    MODELS_FILE, needed when a service that stores data is scaffolded.
    """
    done = set(scaffolded(registry, existing_files))
    new_files: Dict[str, str] = {}
    updated: Dict[str, str] = {}
    models_before = models_text
    for service in registry.services:
        if service.name not in done:
            rendered = render_service(service, templates)
            if stores(service):
                models_text = _with_stored_model(service, templates, models_text)
                rendered.update(_initial_migration(service, rendered, models_text))
            new_files.update(
                {path: text for path, text in rendered.items() if path not in existing_files}
            )
    if models_text is not None and models_text != models_before:
        updated[MODELS_FILE] = models_text
    rendered_infra = render_all(registry, dict(managed_texts))
    updated.update(
        {path: text for path, text in rendered_infra.items() if managed_texts[path] != text}
    )
    for path, render in GENERATED_FILES.items():
        text = render(registry)
        if managed_texts.get(path) != text:
            updated[path] = text
    previously = services_in_compose(managed_texts[COMPOSE_FILE])
    unregistered = tuple(name for name in previously if name not in registry.names())
    return SyncPlan(new_files, updated, unregistered)


def _with_stored_model(
    service: Service, templates: Mapping[str, str], models_text: Optional[str]
) -> str:
    """MODELS_FILE with the model the service's scaffold stores, unless it is there already."""
    if models_text is None:
        raise ValueError(f"scaffolding {service.name} (it stores data) needs {MODELS_FILE}")
    if re.search(rf"^  {stored_model(service)}:", models_text, re.MULTILINE):
        return models_text
    return (
        models_text.rstrip("\n") + "\n" + render_partial("stored_model.yaml.j2", service, templates)
    )


def _initial_migration(
    service: Service, rendered: Mapping[str, str], models_text: str
) -> Dict[str, str]:
    """The first migration of a service that stores data: its spec's tables."""
    domain_path = f"{service.folder}/spec/{service.name}.yaml"
    spec = load({MODELS_FILE: models_text, domain_path: rendered[domain_path]})
    domain = spec.domain(service.name, service.name)
    text = render_initial_migration(spec, domain, f"create the tables of {service.name}")
    return {f"{service.folder}/migrations/versions/0001_initial.py": text}
