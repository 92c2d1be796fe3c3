"""Which generated module each spec target provides, from its path alone, so that Python
dependency inference links `import generated.models` to `shared/spec/models.yaml`."""

from __future__ import annotations

from collections import defaultdict

from pants.backend.python.dependency_inference.module_mapper import (
    FirstPartyPythonMappingImpl,
    FirstPartyPythonMappingImplMarker,
    ModuleProvider,
    ModuleProviderType,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.engine.rules import collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from specgen.layout import module_names
from pants_specgen.target_types import AllSpecTargets, SpecPythonResolveField, SpecSourceField


class PythonSpecMappingMarker(FirstPartyPythonMappingImplMarker):
    pass


@rule(desc="Map spec targets to generated Python modules", level=LogLevel.DEBUG)
def map_specs_to_python_modules(
    all_specs: AllSpecTargets, python_setup: PythonSetup, _: PythonSpecMappingMarker
) -> FirstPartyPythonMappingImpl:
    providers: defaultdict = defaultdict(lambda: defaultdict(list))
    for tgt in all_specs:
        resolve = tgt[SpecPythonResolveField].normalized_value(python_setup)
        for module in module_names(tgt[SpecSourceField].file_path):
            providers[resolve][module].append(ModuleProvider(tgt.address, ModuleProviderType.IMPL))
    return FirstPartyPythonMappingImpl.create(providers)


def rules():
    return [*collect_rules(), UnionRule(FirstPartyPythonMappingImplMarker, PythonSpecMappingMarker)]
