"""`typescript_sources` and `typescript_tests`: TypeScript files for Pants 2.17's JavaScript backend.

Pants 2.17 knows only `.js`/`.cjs`/`.mjs` files. These targets' source fields subclass the
JavaScript ones, so everything that asks for JavaScript sources takes TypeScript too: the
`package_json` build sandbox (`node_build_script`), the test runner (tests run through the package's
`test` script, here Vitest) and the Prettier formatter. They have no import inference (the 2.17
parser reads JavaScript only): a package's TypeScript files reach its sandbox through the package.
"""

from __future__ import annotations

from pants.backend.javascript.target_types import (
    JSSourceField,
    JSTestBatchCompatibilityTagField,
    JSTestExtraEnvVarsField,
    JSTestSourceField,
    JSTestTimeoutField,
)
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    Dependencies,
    MultipleSourcesField,
    OverridesField,
    Target,
    TargetFilesGenerator,
    generate_file_based_overrides_field_help_message,
    generate_multiple_sources_field_help_message,
)

TS_FILE_EXTENSIONS = (".ts", ".tsx")


class TypeScriptDependenciesField(Dependencies):
    pass


# mypy takes the JavaScript fields' extensions for a tuple of exactly three (Pants 2.17 leaves the
# class attribute unannotated); Field declares it `tuple[str, ...] | None`.
class TypeScriptSourceField(JSSourceField):
    expected_file_extensions = TS_FILE_EXTENSIONS  # type: ignore[assignment]


class TypeScriptSourceTarget(Target):
    alias = "typescript_source"
    core_fields = (*COMMON_TARGET_FIELDS, TypeScriptDependenciesField, TypeScriptSourceField)
    help = "A single TypeScript file."


class TypeScriptSourcesGeneratingSourcesField(MultipleSourcesField):
    default = ("*.ts", "*.tsx", "!*.test.ts", "!*.test.tsx")
    expected_file_extensions = TS_FILE_EXTENSIONS
    help = generate_multiple_sources_field_help_message("Example: `sources=['src/**/*.tsx']`")


class TypeScriptSourcesOverridesField(OverridesField):
    help = generate_file_based_overrides_field_help_message(
        TypeScriptSourceTarget.alias, "overrides={'main.tsx': {'dependencies': [':assets']}}"
    )


class TypeScriptSourcesGeneratorTarget(TargetFilesGenerator):
    alias = "typescript_sources"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        TypeScriptSourcesGeneratingSourcesField,
        TypeScriptSourcesOverridesField,
    )
    generated_target_cls = TypeScriptSourceTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (TypeScriptDependenciesField,)
    help = "Generate a `typescript_source` target for each file in the `sources` field."


class TypeScriptTestSourceField(JSTestSourceField):
    expected_file_extensions = TS_FILE_EXTENSIONS  # type: ignore[assignment]


class TypeScriptTestTarget(Target):
    alias = "typescript_test"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        TypeScriptDependenciesField,
        TypeScriptTestSourceField,
        JSTestTimeoutField,
        JSTestExtraEnvVarsField,
        JSTestBatchCompatibilityTagField,
    )
    help = "A TypeScript test file, run by the owning `package_json`'s `node_test_script`."


class TypeScriptTestsGeneratingSourcesField(MultipleSourcesField):
    default = ("*.test.ts", "*.test.tsx")
    expected_file_extensions = TS_FILE_EXTENSIONS
    help = generate_multiple_sources_field_help_message("Example: `sources=['src/**/*.test.ts']`")


class TypeScriptTestsOverridesField(OverridesField):
    help = generate_file_based_overrides_field_help_message(
        TypeScriptTestTarget.alias, "overrides={'slow.test.ts': {'timeout': 300}}"
    )


class TypeScriptTestsGeneratorTarget(TargetFilesGenerator):
    alias = "typescript_tests"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        TypeScriptTestsGeneratingSourcesField,
        TypeScriptTestsOverridesField,
    )
    generated_target_cls = TypeScriptTestTarget
    copied_fields = COMMON_TARGET_FIELDS
    moved_fields = (
        TypeScriptDependenciesField,
        JSTestTimeoutField,
        JSTestExtraEnvVarsField,
        JSTestBatchCompatibilityTagField,
    )
    help = "Generate a `typescript_test` target for each file in the `sources` field."
