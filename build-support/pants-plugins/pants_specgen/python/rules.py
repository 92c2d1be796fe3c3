"""Spec -> Python modules, as a Pants codegen step: Python targets that import generated code get
the generated files in their sandboxes, pexes and images; nothing lands in the source tree."""

from __future__ import annotations

import os

from pants.backend.python.target_types import PythonSourceField
from pants.engine.fs import CreateDigest, FileContent, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from pants_specgen.spec_inputs import GeneratedPython, SpecInputsRequest
from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import SpecSourceField


class GeneratePythonFromSpecRequest(GenerateSourcesRequest):
    input = SpecSourceField
    output = PythonSourceField


@rule(desc="Generate Python from specs", level=LogLevel.DEBUG)
async def generate_python_sources(
    request: GeneratePythonFromSpecRequest, specgen: SpecgenSubsystem
) -> GeneratedSources:
    generated = await Get(
        GeneratedPython, SpecInputsRequest(request.protocol_target[SpecSourceField])
    )
    snapshot = await Get(
        Snapshot,
        CreateDigest(
            FileContent(os.path.join(specgen.python_source_root, path), content.encode())
            for path, content in sorted(generated.files.items())
        ),
    )
    return GeneratedSources(snapshot)


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GeneratePythonFromSpecRequest)]
