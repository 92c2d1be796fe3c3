"""`pants tailor` adds a `spec_sources` target to every `spec/` folder with unowned YAML specs."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.core.goals.tailor import (
    AllOwnedSources,
    PutativeTarget,
    PutativeTargets,
    PutativeTargetsRequest,
)
from pants.engine.fs import PathGlobs, Paths
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.dirutil import group_by_dir
from pants.util.logging import LogLevel

from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import SpecSourcesGeneratorTarget


@dataclass(frozen=True)
class PutativeSpecTargetsRequest(PutativeTargetsRequest):
    pass


@rule(level=LogLevel.DEBUG, desc="Determine candidate spec targets to create")
async def find_putative_spec_targets(
    request: PutativeSpecTargetsRequest,
    all_owned_sources: AllOwnedSources,
    specgen: SpecgenSubsystem,
) -> PutativeTargets:
    if not specgen.tailor:
        return PutativeTargets()
    all_yaml = await Get(Paths, PathGlobs, request.path_globs("*.yaml"))
    unowned_specs = {
        path
        for path in set(all_yaml.files) - set(all_owned_sources)
        if os.path.basename(os.path.dirname(path)) == "spec"
    }
    return PutativeTargets(
        PutativeTarget.for_target_type(
            SpecSourcesGeneratorTarget, path=dirname, name=None, triggering_sources=sorted(files)
        )
        for dirname, files in group_by_dir(unowned_specs).items()
    )


def rules():
    return [*collect_rules(), UnionRule(PutativeTargetsRequest, PutativeSpecTargetsRequest)]
