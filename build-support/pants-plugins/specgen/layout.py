"""Where spec files live and what each generates, from the path alone.

`shared/spec/{models,events}.yaml`, `<service>/spec/<domain>.yaml` and `<service>/spec/manifest.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from specgen.checks import is_identifier
from specgen.errors import SpecError, SpecErrors

MODELS, EVENTS, DOMAIN, MANIFEST = "models", "events", "domain", "manifest"
RESERVED_DOMAINS = ("clients",)  # the manifest generates generated.<service>.clients


@dataclass(frozen=True)
class SpecPath:
    kind: str  # models | events | domain | manifest
    service: str = ""
    domain: str = ""


class _PathProblem(Exception):
    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _classify(path: str) -> SpecPath:
    parts = path.replace("\\", "/").split("/")
    if len(parts) < 3 or parts[-2] != "spec" or not parts[-1].endswith(".yaml"):
        raise _PathProblem(
            "not a spec file path",
            "use shared/spec/{models,events}.yaml or <service>/spec/<domain|manifest>.yaml",
        )
    directory, stem = parts[-3], parts[-1][: -len(".yaml")]
    if directory == "shared":
        if stem in (MODELS, EVENTS):
            return SpecPath(stem)
        raise _PathProblem("shared/spec holds only models.yaml and events.yaml")
    if not is_identifier(directory):
        raise _PathProblem(f"service name '{directory}' is not a Python identifier")
    if stem == MANIFEST:
        return SpecPath(MANIFEST, directory)
    if not is_identifier(stem):
        raise _PathProblem(f"domain name '{stem}' is not a Python identifier")
    if stem in RESERVED_DOMAINS:
        raise _PathProblem(
            f"domain name '{stem}' is reserved",
            f"generated.{directory}.{stem} is generated from the manifest; rename the file",
        )
    return SpecPath(DOMAIN, directory, stem)


def _path_error(path: str, problem: _PathProblem) -> SpecError:
    return SpecError(path, 1, "", problem.message, problem.hint)


def classify(path: str) -> SpecPath:
    """The kind, service and domain of a spec path; raises SpecErrors for any other path."""
    try:
        return _classify(path)
    except _PathProblem as problem:
        raise SpecErrors([_path_error(path, problem)]) from None


def spec_kind(path: str) -> str:
    """ "models", "events", "domain" or "manifest", from the path alone."""
    return classify(path).kind


def module_name(path: str) -> str:
    """The Python module generated from a spec path, from the path alone."""
    spec = classify(path)
    if spec.kind in (MODELS, EVENTS):
        return f"generated.{spec.kind}"
    if spec.kind == MANIFEST:
        return f"generated.{spec.service}.clients"
    return f"generated.{spec.service}.{spec.domain}"
