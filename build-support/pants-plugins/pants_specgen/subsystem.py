from __future__ import annotations

from pants.option.option_types import BoolOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class SpecgenSubsystem(Subsystem):
    options_scope = "specgen"
    help = "Code generation from YAML specs (see docs/spec.md)."

    python_source_root = StrOption(
        default="src/python",
        help=softwrap("""
            The source root generated Python modules are placed under; with the default,
            `shared/spec/models.yaml` becomes `src/python/generated/models.py`, imported as
            `generated.models`.
            """),
    )
    typescript_source_root = StrOption(
        default="src/typescript",
        help=softwrap("""
            The folder generated TypeScript is placed under: `generated/models.ts`,
            `generated/http.ts`, `generated/events.ts` and `generated/<service>/clients.ts` (from a
            manifest). A package imports them relative to its own folder.
            """),
    )
    documents_root = StrOption(
        default="src",
        help=softwrap("""
            Where the API documents go (shown by `pants export-codegen`):
            `<root>/openapi/<service>/<domain>.json`, `<root>/asyncapi/events.json`.
            """),
    )
    warnings_as_errors = BoolOption(
        default=False,
        help=softwrap("""
            If true, spec warnings (problems the spec-first template tolerates, such as an event
            flag that contradicts how the event is used) fail generation like errors.
            """),
    )
    tailor = BoolOption(
        default=True,
        help="If true, `pants tailor` adds `spec_sources` targets for YAML files in `spec/` folders.",
    )
