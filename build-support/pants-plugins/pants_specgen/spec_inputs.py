"""Which spec files one spec needs to be loaded (its own file, the shared models and events, the
domains a manifest consumes), and the loaded spec set every generating rule shares."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

from pants.base.build_environment import get_buildroot
from pants.engine.addresses import Address
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent, PathGlobs
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest, Target
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

import specgen
from specgen.generators.render import TEMPLATES
from specgen.kinds.manifest import consumed_domains
from specgen.ir import SpecSet
from specgen.layout import classify
from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import AllSpecTargets, SpecSourceField

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpecInputsRequest:
    source: SpecSourceField


@dataclass(frozen=True)
class SpecInputs:
    """The other spec targets a spec needs, and every file's text (its own included)."""

    needs: tuple[Address, ...]
    files: FrozenDict[str, str]


@dataclass(frozen=True)
class LoadedSpec:
    """The spec set one spec is loaded in (itself and the specs it needs): loaded once per run,
    whichever outputs are generated from it."""

    spec: SpecSet
    # The generators read their templates themselves; the templates' digest here makes a template
    # change regenerate, in pantsd too.
    templates: Digest


def _templates_globs() -> PathGlobs:
    """The generator's templates, where the plugin lives in the repository (as here); a plugin
    installed elsewhere has templates that do not change."""
    relative = os.path.relpath(TEMPLATES, get_buildroot())
    return PathGlobs(() if relative.startswith("..") else (os.path.join(relative, "**"),))


def files_under(root: str, files: Mapping[str, str]) -> CreateDigest:
    """Generated files, placed under the root their language's source root option names."""
    return CreateDigest(
        FileContent(os.path.join(root, path), content.encode())
        for path, content in sorted(files.items())
    )


def _shared_spec(all_specs: AllSpecTargets, kind: str) -> tuple[Target, ...]:
    return tuple(t for t in all_specs if classify(t[SpecSourceField].file_path).kind == kind)


async def _read(sources: tuple[SpecSourceField, ...]) -> dict[str, str]:
    hydrated = await MultiGet(Get(HydratedSources, HydrateSourcesRequest(s)) for s in sources)
    contents = await MultiGet(Get(DigestContents, Digest, h.snapshot.digest) for h in hydrated)
    return {f.path: f.content.decode() for files in contents for f in files}


@rule(desc="Find the specs a spec needs", level=LogLevel.DEBUG)
async def find_spec_inputs(request: SpecInputsRequest, all_specs: AllSpecTargets) -> SpecInputs:
    kind = classify(request.source.file_path).kind
    own = await _read((request.source,))
    needs: list[Target] = []
    if kind in ("events", "domain", "manifest"):
        needs.extend(_shared_spec(all_specs, "models"))
    if kind in ("domain", "manifest"):
        needs.extend(_shared_spec(all_specs, "events"))
    if kind == "manifest":
        consumed = consumed_domains(request.source.file_path, own[request.source.file_path])
        for tgt in all_specs:
            path = classify(tgt[SpecSourceField].file_path)
            if path.kind == "domain" and (path.service, path.domain) in consumed:
                needs.append(tgt)
    files = {**own, **await _read(tuple(t[SpecSourceField] for t in needs))}
    return SpecInputs(tuple(t.address for t in needs), FrozenDict(files))


@rule(desc="Load a spec", level=LogLevel.DEBUG)
async def load_spec(request: SpecInputsRequest, specgen_options: SpecgenSubsystem) -> LoadedSpec:
    inputs = await Get(SpecInputs, SpecInputsRequest, request)
    own_file = request.source.file_path
    spec = specgen.load(inputs.files, warnings_as_errors=specgen_options.warnings_as_errors)
    for warning in spec.warnings:
        if warning.file == own_file:  # each spec's load reports its own, so each once
            logger.warning(str(warning))
    return LoadedSpec(spec, await Get(Digest, PathGlobs, _templates_globs()))


def rules():
    return collect_rules()
