"""`pants tailor` adds `typescript_sources` / `typescript_tests` for unowned `.ts`/`.tsx` files that
lie inside a `package_json` package (Pants 2.17's JavaScript tailor handles only `.js`)."""

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

from pants_typescript.target_types import (
    TypeScriptSourcesGeneratorTarget,
    TypeScriptTestsGeneratorTarget,
)


@dataclass(frozen=True)
class PutativeTypeScriptTargetsRequest(PutativeTargetsRequest):
    pass


def _is_test(path: str) -> bool:
    return path.endswith((".test.ts", ".test.tsx"))


def _in_package(path: str, package_dirs: set[str]) -> bool:
    directory = os.path.dirname(path)
    while directory:
        if directory in package_dirs:
            return True
        directory = os.path.dirname(directory)
    return False


@rule(level=LogLevel.DEBUG, desc="Determine candidate TypeScript targets to create")
async def find_putative_typescript_targets(
    request: PutativeTypeScriptTargetsRequest, all_owned_sources: AllOwnedSources
) -> PutativeTargets:
    all_ts = await Get(Paths, PathGlobs, request.path_globs("*.ts", "*.tsx"))
    packages = await Get(Paths, PathGlobs(["**/package.json", "!**/node_modules/**"]))
    package_dirs = {os.path.dirname(path) for path in packages.files}
    unowned = [
        path
        for path in set(all_ts.files) - set(all_owned_sources)
        if "node_modules" not in path.split("/") and _in_package(path, package_dirs)
    ]
    putative = []
    for target_type, files in (
        (TypeScriptTestsGeneratorTarget, [p for p in unowned if _is_test(p)]),
        (TypeScriptSourcesGeneratorTarget, [p for p in unowned if not _is_test(p)]),
    ):
        for dirname, names in group_by_dir(files).items():
            putative.append(
                PutativeTarget.for_target_type(
                    target_type,
                    path=dirname,
                    name="tests" if target_type is TypeScriptTestsGeneratorTarget else None,
                    triggering_sources=sorted(names),
                )
            )
    return PutativeTargets(putative)


def rules():
    return [*collect_rules(), UnionRule(PutativeTargetsRequest, PutativeTypeScriptTargetsRequest)]
