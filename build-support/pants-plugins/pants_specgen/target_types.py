"""Target types for spec files (`spec_source`, `spec_sources`) and for the generator itself."""

from __future__ import annotations

from pants.backend.python.target_types import PythonResolveField
from pants.engine.rules import collect_rules, rule
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    AllTargets,
    Dependencies,
    MultipleSourcesField,
    SingleSourceField,
    Target,
    TargetFilesGenerator,
    Targets,
    generate_multiple_sources_field_help_message,
)
from pants.util.logging import LogLevel
from pants.util.strutil import help_text


class SpecSourceField(SingleSourceField):
    expected_file_extensions = (".yaml",)
    help = "A spec file: `shared/spec/models.yaml`, `shared/spec/events.yaml`, or `<service>/spec/<domain or manifest>.yaml`."


class SpecDependenciesField(Dependencies):
    pass


class SpecPythonResolveField(PythonResolveField):
    help = help_text("""
        The resolve of the Python code generated from this spec; a Python module that imports the
        generated code depends on this target when both use the same resolve.
        """)


class SpecSourceTarget(Target):
    alias = "spec_source"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        SpecDependenciesField,
        SpecSourceField,
        SpecPythonResolveField,
    )
    help = help_text("""
        A YAML spec that generates code at build time: Pydantic models (`generated.models`),
        events (`generated.events`), a FastAPI router and controller protocol per domain
        (`generated.<service>.<domain>`), typed clients per manifest (`generated.<service>.clients`).
        Generated code is never written to the source tree; `pants export-codegen` shows it.
        See docs/spec.md.
        """)


class SpecSourcesGeneratingSourcesField(MultipleSourcesField):
    default = ("*.yaml",)
    expected_file_extensions = (".yaml",)
    help = generate_multiple_sources_field_help_message(
        "Example: `sources=['users.yaml', 'manifest.yaml']`"
    )


class SpecSourcesGeneratorTarget(TargetFilesGenerator):
    alias = "spec_sources"
    core_fields = (*COMMON_TARGET_FIELDS, SpecSourcesGeneratingSourcesField)
    generated_target_cls = SpecSourceTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (SpecDependenciesField, SpecPythonResolveField)
    help = "Generate a `spec_source` target for each file in the `sources` field."


class SpecGeneratorSourcesField(MultipleSourcesField):
    help = "The generator's own files (code and templates)."


class SpecGeneratorTarget(Target):
    alias = "spec_generator"
    core_fields = (*COMMON_TARGET_FIELDS, SpecGeneratorSourcesField)
    help = help_text("""
        The code generator's own sources. Every spec target depends on it, so that a change to the
        generator or its templates selects (`--changed-dependents=transitive`) everything that
        uses generated code.
        """)


class AllSpecTargets(Targets):
    pass


class AllSpecGeneratorTargets(Targets):
    pass


@rule(desc="Find all spec targets", level=LogLevel.DEBUG)
def find_all_spec_targets(targets: AllTargets) -> AllSpecTargets:
    return AllSpecTargets(tgt for tgt in targets if tgt.has_field(SpecSourceField))


@rule(desc="Find the spec generator targets", level=LogLevel.DEBUG)
def find_spec_generator_targets(targets: AllTargets) -> AllSpecGeneratorTargets:
    return AllSpecGeneratorTargets(
        tgt for tgt in targets if tgt.has_field(SpecGeneratorSourcesField)
    )


def rules():
    return collect_rules()
