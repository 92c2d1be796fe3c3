"""Dependencies of spec targets: the specs each one needs, the generator's own sources (so a
generator change selects everything generated), and the runtime modules code generated from a spec
imports (`specgen.generate.runtime_imports`): inferred from the spec itself, without generating,
as Pants' protobuf backend infers from `.proto` files. A runtime module owned by more than one
target is handled as Pants' own backends do: a warning names the candidates, and the spec target's
explicit `dependencies` (an include, or `!` ignores) pick one."""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.python.dependency_inference.module_mapper import (
    PythonModuleOwners,
    PythonModuleOwnersRequest,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    DependenciesRequest,
    ExplicitlyProvidedDependencies,
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
)
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
    inputs, explicit = await MultiGet(
        Get(SpecInputs, SpecInputsRequest(field_set.source)),
        Get(ExplicitlyProvidedDependencies, DependenciesRequest(field_set.dependencies)),
    )
    resolve = field_set.resolve.normalized_value(python_setup)
    path = field_set.source.file_path
    modules = runtime_imports(path, inputs.files[path])
    owners = await MultiGet(
        Get(PythonModuleOwners, PythonModuleOwnersRequest(module, resolve)) for module in modules
    )
    dependencies = {*inputs.needs, *(tgt.address for tgt in generators)}
    for module, owner in zip(modules, owners):
        if owner.unambiguous:
            dependencies.update(owner.unambiguous)
            continue
        explicit.maybe_warn_of_ambiguous_dependency_inference(
            owner.ambiguous,
            field_set.address,
            import_reference="module",
            context=f"The code generated from {field_set.address} imports `{module}`",
        )
        chosen = explicit.disambiguated(owner.ambiguous)
        if chosen:
            dependencies.add(chosen)
    dependencies.discard(field_set.address)
    return InferredDependencies(sorted(dependencies))


def rules():
    return [*collect_rules(), UnionRule(InferDependenciesRequest, InferSpecDependencies)]
