"""Spec -> Python modules, as a Pants codegen step: Python targets that import generated code get
the generated files in their sandboxes, pexes and images; nothing lands in the source tree."""

from __future__ import annotations


from pants.backend.python.target_types import PythonSourceField
from pants.engine.fs import CreateDigest, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from specgen.generate import generate_python
from pants_specgen.spec_inputs import LoadedSpec, SpecInputsRequest, files_under
from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import SpecSourceField


class GeneratePythonFromSpecRequest(GenerateSourcesRequest):
    input = SpecSourceField
    output = PythonSourceField


@rule(desc="Generate Python from specs", level=LogLevel.DEBUG)
async def generate_python_sources(
    request: GeneratePythonFromSpecRequest, specgen_options: SpecgenSubsystem
) -> GeneratedSources:
    source = request.protocol_target[SpecSourceField]
    loaded = await Get(LoadedSpec, SpecInputsRequest(source))
    generated = generate_python(loaded.spec, source.file_path)
    snapshot = await Get(
        Snapshot, CreateDigest, files_under(specgen_options.python_source_root, generated)
    )
    return GeneratedSources(snapshot)


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GeneratePythonFromSpecRequest)]
