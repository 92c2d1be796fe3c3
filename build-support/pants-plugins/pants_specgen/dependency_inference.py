"""Dependencies of spec targets: the specs each one needs, the generator's own sources (so a
generator change selects everything generated), and whatever the generated code imports."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.dependency_inference.module_mapper import (
    PythonModuleOwners,
    PythonModuleOwnersRequest,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import FieldSet, InferDependenciesRequest, InferredDependencies
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from pants_specgen.spec_inputs import GeneratedPython, SpecInputs, SpecInputsRequest
from pants_specgen.target_types import (
    AllSpecGeneratorTargets,
    SpecDependenciesField,
    SpecPythonResolveField,
    SpecSourceField,
)


@dataclass(frozen=True)
class SpecDependenciesInferenceFieldSet(FieldSet):
    required_fields = (SpecSourceField, SpecDependenciesField)

    source: SpecSourceField
    dependencies: SpecDependenciesField
    resolve: SpecPythonResolveField


class InferSpecDependencies(InferDependenciesRequest):
    infer_from = SpecDependenciesInferenceFieldSet


def imported_modules(sources: Iterable[str]) -> set[str]:
    modules: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
    modules.discard("__future__")
    return modules


@rule(desc="Infer dependencies of spec targets", level=LogLevel.DEBUG)
async def infer_spec_dependencies(
    request: InferSpecDependencies,
    generators: AllSpecGeneratorTargets,
    python_setup: PythonSetup,
) -> InferredDependencies:
    field_set = request.field_set
    inputs_request = SpecInputsRequest(field_set.source)
    inputs, generated = await MultiGet(
        Get(SpecInputs, SpecInputsRequest, inputs_request),
        Get(GeneratedPython, SpecInputsRequest, inputs_request),
    )
    resolve = field_set.resolve.normalized_value(python_setup)
    owners = await MultiGet(
        Get(PythonModuleOwners, PythonModuleOwnersRequest(module, resolve))
        for module in sorted(imported_modules(generated.files.values()))
    )
    dependencies = {
        *inputs.needs,
        *(tgt.address for tgt in generators),
        *(address for owner in owners for address in owner.unambiguous),
    }
    dependencies.discard(field_set.address)
    return InferredDependencies(sorted(dependencies))


def rules():
    return [*collect_rules(), UnionRule(InferDependenciesRequest, InferSpecDependencies)]
