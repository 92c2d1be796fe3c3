"""Spec -> TypeScript, as a Pants codegen step: a `package_json` package that depends on spec
targets gets the generated types and clients in its build and test sandboxes (they are
`typescript_source` files to Pants, so its JavaScript backend hydrates them); nothing lands in the
source tree."""

from __future__ import annotations

from pants.engine.fs import CreateDigest, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from specgen.generate import generate_typescript
from pants_specgen.spec_inputs import LoadedSpec, SpecInputsRequest, files_under
from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import SpecSourceField
from pants_typescript.target_types import TypeScriptSourceField


class GenerateTypeScriptFromSpecRequest(GenerateSourcesRequest):
    input = SpecSourceField
    output = TypeScriptSourceField


@rule(desc="Generate TypeScript from specs", level=LogLevel.DEBUG)
async def generate_typescript_sources(
    request: GenerateTypeScriptFromSpecRequest, specgen_options: SpecgenSubsystem
) -> GeneratedSources:
    source = request.protocol_target[SpecSourceField]
    loaded = await Get(LoadedSpec, SpecInputsRequest(source))
    generated = generate_typescript(loaded.spec, source.file_path)
    snapshot = await Get(
        Snapshot, CreateDigest, files_under(specgen_options.typescript_source_root, generated)
    )
    return GeneratedSources(snapshot)


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GenerateTypeScriptFromSpecRequest)]
