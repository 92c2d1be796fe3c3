"""`packaged_files`: built packages (a pex, an archive) as files that other targets' sandboxes get.

Pants 2.17's JavaScript test runner puts only JavaScript and file/resource sources into a test's
sandbox, and `adhoc_tool` cannot take a package whose closure holds spec targets (it hydrates every
source type, which is ambiguous for them). This target depends on packages and, as a codegen step,
yields their built files at their usual `dist/` paths, relative to the sandbox root (a pex_binary
`src/python/backend:pex` becomes `src.python.backend/pex.pex`). Later Pants has
`experimental_wrap_as_resources` for this.
"""

from __future__ import annotations

from pants.core.goals.package import BuiltPackage, EnvironmentAwarePackageRequest, PackageFieldSet
from pants.core.target_types import FileSourceField
from pants.engine.addresses import Addresses, UnparsedAddressInputs
from pants.engine.fs import Digest, MergeDigests, Snapshot
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    FieldSetsPerTarget,
    FieldSetsPerTargetRequest,
    GeneratedSources,
    GenerateSourcesRequest,
    MultipleSourcesField,
    SpecialCasedDependencies,
    Target,
    Targets,
)
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel


class PackagedFilesSourcesField(MultipleSourcesField):
    """No sources of its own: the codegen input that stands for the packages."""

    alias = "_sources"
    default = ()
    expected_num_files = 0


class PackagedFilesPackagesField(SpecialCasedDependencies):
    alias = "packages"
    required = True
    help = "Addresses of the packageable targets (`pex_binary`, ...) whose built files to provide."


class PackagedFilesTarget(Target):
    alias = "packaged_files"
    core_fields = (*COMMON_TARGET_FIELDS, PackagedFilesSourcesField, PackagedFilesPackagesField)
    help = (
        "Built packages as files: a test that depends on this target finds them in its sandbox at "
        "their dist/ paths (for example `src.python.backend/pex.pex`)."
    )


class GenerateFilesFromPackagesRequest(GenerateSourcesRequest):
    input = PackagedFilesSourcesField
    output = FileSourceField


@rule(desc="Build packages as files", level=LogLevel.DEBUG)
async def build_packaged_files(request: GenerateFilesFromPackagesRequest) -> GeneratedSources:
    addresses = await Get(
        Addresses,
        UnparsedAddressInputs,
        request.protocol_target[PackagedFilesPackagesField].to_unparsed_address_inputs(),
    )
    targets = await Get(Targets, Addresses, addresses)
    field_sets = await Get(FieldSetsPerTarget, FieldSetsPerTargetRequest(PackageFieldSet, targets))
    packages = await MultiGet(
        Get(BuiltPackage, EnvironmentAwarePackageRequest(field_set))
        for field_set in field_sets.field_sets
    )
    digest = await Get(Digest, MergeDigests(package.digest for package in packages))
    return GeneratedSources(await Get(Snapshot, Digest, digest))


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GenerateFilesFromPackagesRequest)]
