"""A new service's files, rendered from the Jinja2 templates of its type (see templates/README.md)."""

from __future__ import annotations

import posixpath
from typing import Dict, Mapping, Tuple

import jinja2

from services.registry import Service
from specgen.generators.naming import camel

TEMPLATES_DIR = "templates"
COMMON_LAYER = "common"
PARTIALS_DIR = "_partials"
NAME_PLACEHOLDER = "__name__"
# `<type>+postgres/`: what a service of that type gets when it depends on postgres (its storage,
# migrations and database wiring), over the type's own files.
STORED_SUFFIX = "+postgres"
# Pants reads any file called BUILD or BUILD.* as a BUILD file, templates included.
_STORED_NAMES = {"BUILDFILE": "BUILD"}


def _environment(templates: Mapping[str, str]) -> jinja2.Environment:
    prefix = TEMPLATES_DIR + "/"
    return jinja2.Environment(
        loader=jinja2.DictLoader({path[len(prefix) :]: text for path, text in templates.items()}),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(service: Service) -> Dict[str, object]:
    return {
        "service": service,
        "class_name": camel(service.name),
        "env_prefix": service.name.upper() + "_",
        "stored_model": stored_model(service),
    }


def render_partial(name: str, service: Service, templates: Mapping[str, str]) -> str:
    """`_partials/<name>` rendered for `service`: a piece of a file outside its folder."""
    return _environment(templates).get_template(f"{PARTIALS_DIR}/{name}").render(_context(service))


def render_service(service: Service, templates: Mapping[str, str]) -> Dict[str, str]:
    """{repo path: content} of every file of `service`, from {repo path: text} of the templates."""
    environment = _environment(templates)
    context = _context(service)
    files: Dict[str, str] = {}
    # Later layers replace the files of earlier ones of the same name.
    layers: Tuple[str, ...] = (
        (COMMON_LAYER, service.type.name) if service.type.python else (service.type.name,)
    )
    if stores(service):
        layers += (service.type.name + STORED_SUFFIX,)
    for layer in layers:
        layer_prefix = f"{layer}/"
        for name in sorted(environment.list_templates()):
            if name.startswith(layer_prefix):
                output = _output_path(service, name[len(layer_prefix) :])
                files[output] = environment.get_template(name).render(context)
    return files


def stores(service: Service) -> bool:
    """Whether the service keeps data in PostgreSQL, and its type has templates for that."""
    return "postgres" in service.depends_on and service.type.name == "python-fastapi"


def stored_model(service: Service) -> str:
    """The model a stored service's scaffold keeps: `ledger` -> `LedgerItem`."""
    return camel(service.name) + "Item"


def _output_path(service: Service, template_path: str) -> str:
    directory, file_name = posixpath.split(template_path[: -len(".j2")])
    file_name = _STORED_NAMES.get(file_name, file_name).replace(NAME_PLACEHOLDER, service.name)
    return posixpath.join(service.folder, directory, file_name)
