"""Dependencies of spec targets: the specs each one needs, the generator's own sources (so a
generator change selects everything generated), and the runtime modules code generated from a spec
imports (`specgen.generate.runtime_imports`): inferred from the spec itself, without generating,
as Pants' protobuf backend infers from `.proto` files."""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.python.dependency_inference.module_mapper import (
    PythonModuleOwners,
    PythonModuleOwnersRequest,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import FieldSet, InferDependenciesRequest, InferredDependencies
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from specgen.generate import runtime_imports
from pants_specgen.spec_inputs import SpecInputs, SpecInputsRequest
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


@rule(desc="Infer dependencies of spec targets", level=LogLevel.DEBUG)
async def infer_spec_dependencies(
    request: InferSpecDependencies,
    generators: AllSpecGeneratorTargets,
    python_setup: PythonSetup,
) -> InferredDependencies:
    field_set = request.field_set
    inputs = await Get(SpecInputs, SpecInputsRequest(field_set.source))
    resolve = field_set.resolve.normalized_value(python_setup)
    path = field_set.source.file_path
    owners = await MultiGet(
        Get(PythonModuleOwners, PythonModuleOwnersRequest(module, resolve))
        for module in runtime_imports(path, inputs.files[path])
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
