"""A new service's files, rendered from the Jinja2 templates of its type (see templates/README.md)."""

from __future__ import annotations

import posixpath
from typing import Dict, Mapping

import jinja2

from services.registry import Service
from specgen.generators.naming import camel

TEMPLATES_DIR = "templates"
COMMON_LAYER = "common"
PARTIALS_DIR = "_partials"
NAME_PLACEHOLDER = "__name__"
# Pants reads any file called BUILD or BUILD.* as a BUILD file, templates included.
_STORED_NAMES = {"BUILDFILE": "BUILD"}


def render_service(service: Service, templates: Mapping[str, str]) -> Dict[str, str]:
    """{repo path: content} of every file of `service`, from {repo path: text} of the templates."""
    prefix = TEMPLATES_DIR + "/"
    environment = jinja2.Environment(
        loader=jinja2.DictLoader({path[len(prefix) :]: text for path, text in templates.items()}),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {
        "service": service,
        "class_name": camel(service.name),
        "env_prefix": service.name.upper() + "_",
    }
    files: Dict[str, str] = {}
    # The type's own layer comes last: its files replace the common ones of the same name.
    layers = (COMMON_LAYER, service.type.name) if service.type.python else (service.type.name,)
    for layer in layers:
        layer_prefix = f"{layer}/"
        for name in sorted(environment.list_templates()):
            if name.startswith(layer_prefix):
                output = _output_path(service, name[len(layer_prefix) :])
                files[output] = environment.get_template(name).render(context)
    return files


def _output_path(service: Service, template_path: str) -> str:
    directory, file_name = posixpath.split(template_path[: -len(".j2")])
    file_name = _STORED_NAMES.get(file_name, file_name).replace(NAME_PLACEHOLDER, service.name)
    return posixpath.join(service.folder, directory, file_name)
