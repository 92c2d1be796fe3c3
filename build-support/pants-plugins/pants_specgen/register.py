"""Spec-first code generation for Pants: YAML specs in, Python and TypeScript modules out.

The spec language and the generated module names: docs/spec.md. The grammar and the generators
are plain Python (`specgen`); this backend only wires them into Pants.
"""

from pants_specgen import dependency_inference, documents, spec_inputs, spec_ownership_lint, tailor
from pants_specgen import target_types as spec_target_types
from pants_specgen.goals import spec_diff
from pants_specgen.python import module_mapper
from pants_specgen.python import rules as python_rules
from pants_specgen.typescript import rules as typescript_rules
from pants_specgen.target_types import (
    SpecGeneratorTarget,
    SpecSourcesGeneratorTarget,
    SpecSourceTarget,
)


def rules():
    return [
        *spec_target_types.rules(),
        *spec_inputs.rules(),
        *python_rules.rules(),
        *typescript_rules.rules(),
        *module_mapper.rules(),
        *dependency_inference.rules(),
        *tailor.rules(),
        *documents.rules(),
        *spec_ownership_lint.rules(),
        *spec_diff.rules(),
    ]


def target_types():
    return [SpecSourcesGeneratorTarget, SpecSourceTarget, SpecGeneratorTarget]
