"""`pants lint` check: services must not hand-write what the specs own.

A Pydantic model (a `BaseModel` subclass) or a FastAPI `APIRouter` in first-party Python is
reported; they belong in the specs, from which `generated.*` is built. Opt out per target with
`skip_spec_ownership_lint=True` (for example for a test double), or everywhere with
`[spec-ownership].skip`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from pants.backend.python.target_types import (
    PythonSourceField,
    PythonSourcesGeneratorTarget,
    PythonSourceTarget,
    PythonTestsGeneratorTarget,
    PythonTestTarget,
    PythonTestUtilsGeneratorTarget,
)
from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import BoolField, FieldSet, Target
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel


class SpecOwnershipSubsystem(Subsystem):
    options_scope = "spec-ownership"
    name = "spec-ownership"
    help = "Reports Pydantic models and FastAPI routers written by hand instead of generated from specs."

    skip = SkipOption("lint")


class SkipSpecOwnershipLintField(BoolField):
    alias = "skip_spec_ownership_lint"
    default = False
    help = "If true, this target may define Pydantic models and FastAPI routers by hand."


@dataclass(frozen=True)
class SpecOwnershipFieldSet(FieldSet):
    required_fields = (PythonSourceField,)

    source: PythonSourceField

    @classmethod
    def opt_out(cls, tgt: Target) -> bool:
        return tgt.get(SkipSpecOwnershipLintField).value


class SpecOwnershipLintRequest(LintTargetsRequest):
    field_set_type = SpecOwnershipFieldSet
    tool_subsystem = SpecOwnershipSubsystem  # type: ignore[assignment]  # SkipOption is a descriptor mypy cannot match to the protocol
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def handwritten_spec_code(path: str, source: str) -> list[str]:
    """One line per Pydantic model or FastAPI router the file defines by hand."""
    findings = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.ClassDef) and any(
            _name(base) == "BaseModel" for base in node.bases
        ):
            findings.append(
                f"{path}:{node.lineno}: Pydantic model '{node.name}' is written by hand; "
                "declare it in shared/spec/models.yaml and import it from generated.models"
            )
        elif isinstance(node, ast.Call) and _name(node.func) == "APIRouter":
            findings.append(
                f"{path}:{node.lineno}: a FastAPI router is written by hand; declare the operations "
                "in the service's domain spec and use generated.<service>.<domain>.create_router"
            )
    return findings


@rule(desc="Check for hand-written spec code", level=LogLevel.DEBUG)
async def lint_spec_ownership(request: SpecOwnershipLintRequest.Batch[Any, Any]) -> LintResult:
    sources = await Get(SourceFiles, SourceFilesRequest(fs.source for fs in request.elements))
    contents = await Get(DigestContents, Digest, sources.snapshot.digest)
    findings = [
        finding
        for file in contents
        for finding in handwritten_spec_code(file.path, file.content.decode())
    ]
    hint = "\nOpt out per target with `skip_spec_ownership_lint=True`.\n" if findings else ""
    return LintResult(
        exit_code=1 if findings else 0,
        stdout="\n".join(findings) + hint,
        stderr="",
        linter_name=SpecOwnershipLintRequest.tool_name,
    )


def rules():
    return [
        *collect_rules(),
        *SpecOwnershipLintRequest.rules(),
        *(
            target.register_plugin_field(SkipSpecOwnershipLintField)
            for target in (
                PythonSourceTarget,
                PythonSourcesGeneratorTarget,
                PythonTestTarget,
                PythonTestsGeneratorTarget,
                PythonTestUtilsGeneratorTarget,
            )
        ),
    ]
