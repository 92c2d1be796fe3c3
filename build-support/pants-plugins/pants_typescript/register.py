"""TypeScript targets for Pants 2.17's experimental JavaScript backend (which knows only `.js`).

Enable together with `pants.backend.experimental.javascript`; see target_types.py for what works.
"""

from pants_typescript import packaged_files, tailor
from pants_typescript.packaged_files import PackagedFilesTarget
from pants_typescript.target_types import (
    TypeScriptSourcesGeneratorTarget,
    TypeScriptSourceTarget,
    TypeScriptTestsGeneratorTarget,
    TypeScriptTestTarget,
)


def rules():
    return [*tailor.rules(), *packaged_files.rules()]


def target_types():
    return [
        TypeScriptSourceTarget,
        TypeScriptSourcesGeneratorTarget,
        TypeScriptTestTarget,
        TypeScriptTestsGeneratorTarget,
        PackagedFilesTarget,
    ]
