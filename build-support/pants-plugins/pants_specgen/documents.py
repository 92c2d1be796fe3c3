"""Spec -> documents for API tooling (OpenAPI, AsyncAPI).

Nothing in the build consumes them; `pants export-codegen ::` writes them under
dist/codegen/<[specgen].documents_root>/ for API tooling."""

from __future__ import annotations

from pants.engine.fs import CreateDigest, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest, MultipleSourcesField
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from specgen.generate import generate_documents
from pants_specgen.spec_inputs import LoadedSpec, SpecInputsRequest, files_under
from pants_specgen.subsystem import SpecgenSubsystem
from pants_specgen.target_types import SpecSourceField


class SpecDocumentsField(MultipleSourcesField):
    """The output type of document generation; no target has it."""

    alias = "_spec_documents"


class GenerateDocumentsFromSpecRequest(GenerateSourcesRequest):
    input = SpecSourceField
    output = SpecDocumentsField


@rule(desc="Generate documents from specs", level=LogLevel.DEBUG)
async def generate_spec_documents(
    request: GenerateDocumentsFromSpecRequest, specgen_options: SpecgenSubsystem
) -> GeneratedSources:
    source = request.protocol_target[SpecSourceField]
    loaded = await Get(LoadedSpec, SpecInputsRequest(source))
    documents = generate_documents(loaded.spec, source.file_path)
    snapshot = await Get(
        Snapshot, CreateDigest, files_under(specgen_options.documents_root, documents)
    )
    return GeneratedSources(snapshot)


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GenerateDocumentsFromSpecRequest)]
