"""Spec-first code generation for Pants: YAML specs in, Python (and TypeScript) modules out.

See docs/spec.md for the spec language and the generated module names.
"""


def rules():
    return []


def target_types():
    return []
