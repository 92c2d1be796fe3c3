"""`pants tailor` for TypeScript files, in a real Pants engine (RuleRunner)."""

from __future__ import annotations

from pants.core.goals.tailor import AllOwnedSources, PutativeTarget, PutativeTargets
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner

from pants_typescript import register, tailor
from pants_typescript.tailor import PutativeTypeScriptTargetsRequest
from pants_typescript.target_types import (
    TypeScriptSourcesGeneratorTarget,
    TypeScriptTestsGeneratorTarget,
)


def test_tailor_adds_typescript_targets_inside_packages_only() -> None:
    rule_runner = RuleRunner(
        rules=[
            *tailor.rules(),
            QueryRule(PutativeTargets, [PutativeTypeScriptTargetsRequest, AllOwnedSources]),
        ],
        target_types=register.target_types(),
    )
    rule_runner.write_files(
        {
            "web/app/package.json": "{}",
            "web/app/src/users.ts": "",
            "web/app/src/App.tsx": "",
            "web/app/src/users.test.ts": "",
            "web/app/src/owned.ts": "",
            "web/app/node_modules/dep/index.ts": "",
            "scripts/loose.ts": "",  # no package.json above it: not a package's source
        }
    )
    putative = rule_runner.request(
        PutativeTargets,
        [
            PutativeTypeScriptTargetsRequest(
                ("web/app/src", "web/app/node_modules/dep", "scripts")
            ),
            AllOwnedSources(["web/app/src/owned.ts"]),
        ],
    )
    assert putative == PutativeTargets(
        [
            PutativeTarget.for_target_type(
                TypeScriptTestsGeneratorTarget, "web/app/src", "tests", ["users.test.ts"]
            ),
            PutativeTarget.for_target_type(
                TypeScriptSourcesGeneratorTarget, "web/app/src", "src", ["App.tsx", "users.ts"]
            ),
        ]
    )
