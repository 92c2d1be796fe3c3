"""Which spec files one spec needs to be loaded (its own file, the shared models and events, the
domains a manifest consumes), and the loaded, generated result every other rule shares."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

import yaml
from pants.engine.addresses import Address
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import HydratedSources, HydrateSourcesRequest, Target
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel

import specgen
from specgen.generate import generate_python
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
class GeneratedPython:
    """Python modules generated from one spec: {path under the source root: content}."""

    files: FrozenDict[str, str]


def files_under(root: str, files: Mapping[str, str]) -> CreateDigest:
    """Generated files, placed under the root their language's source root option names."""
    return CreateDigest(
        FileContent(os.path.join(root, path), content.encode())
        for path, content in sorted(files.items())
    )


def _shared_spec(all_specs: AllSpecTargets, kind: str) -> tuple[Target, ...]:
    return tuple(t for t in all_specs if classify(t[SpecSourceField].file_path).kind == kind)


def _consumed_domains(manifest_text: str) -> set[tuple[str, str]]:
    # A malformed manifest needs nothing more: the loader then reports its errors precisely.
    try:
        consumes = (yaml.safe_load(manifest_text) or {}).get("consumes") or []
        return {
            (str(c.get("service")), str(c.get("domain"))) for c in consumes if isinstance(c, dict)
        }
    except (yaml.YAMLError, AttributeError):
        return set()


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
        consumed = _consumed_domains(own[request.source.file_path])
        for tgt in all_specs:
            path = classify(tgt[SpecSourceField].file_path)
            if path.kind == "domain" and (path.service, path.domain) in consumed:
                needs.append(tgt)
    files = {**own, **await _read(tuple(t[SpecSourceField] for t in needs))}
    return SpecInputs(tuple(t.address for t in needs), FrozenDict(files))


@rule(desc="Generate Python from a spec", level=LogLevel.DEBUG)
async def generate_python_from_spec(
    request: SpecInputsRequest, specgen_options: SpecgenSubsystem
) -> GeneratedPython:
    inputs = await Get(SpecInputs, SpecInputsRequest, request)
    own_file = request.source.file_path
    spec = specgen.load(inputs.files, warnings_as_errors=specgen_options.warnings_as_errors)
    for warning in spec.warnings:
        if warning.file == own_file:  # each spec's generation reports its own, so each once
            logger.warning(str(warning))
    return GeneratedPython(FrozenDict(generate_python(spec, own_file)))


def rules():
    return collect_rules()
