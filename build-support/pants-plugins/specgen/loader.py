"""Load spec files into the typed IR of `ir.py`, validating everything strictly.

`load` reads every given file, collects all errors (with file, line and key path) and raises
`SpecErrors` if there is any; bad input never surfaces as a Python traceback. The rooms it uses:
`layout` (which file is what), `yaml_reader` (values with lines), `kinds.*` (one module per file
kind, over the structural `checks` and the `type_grammar`) and `cross_file_checks`.
Runs on Python 3.9 (inside Pants) and 3.11.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from specgen.cross_file_checks import check_field_types, check_services
from specgen.errors import SpecError, SpecErrors
from specgen.ir import SpecSet
from specgen.kinds.catalog import Catalog
from specgen.kinds.domain import read_domain
from specgen.kinds.events import read_events
from specgen.kinds.manifest import read_manifest
from specgen.kinds.models import read_models
from specgen.layout import DOMAIN, EVENTS, MANIFEST, MODELS, SpecPath, classify
from specgen.yaml_reader import Document, gc_paused, parse_yaml


def load(files: Mapping[str, str], *, warnings_as_errors: bool = False) -> SpecSet:
    """Load a spec set from {repo-relative path: YAML text}; raises SpecErrors listing every problem.

    Any subset of files may be given; cross-file references are checked against what was given.
    Warnings (`SpecSet.warnings`) are problems the template tolerates; `warnings_as_errors` raises
    them with the errors.
    """
    errors: List[SpecError] = []
    warnings: List[SpecError] = []
    with gc_paused():
        catalog = _read_all(files, errors, warnings)
    if warnings_as_errors:
        errors += warnings
    if errors:
        raise SpecErrors(errors)
    return SpecSet(
        models=tuple(catalog.models),
        events=tuple(catalog.events.values()),
        domains=tuple(domain for domain, _ in catalog.domains.values()),
        manifests=tuple(catalog.manifests.values()),
        schemas=tuple(catalog.schemas.values()),
        warnings=tuple(sorted(warnings, key=SpecError.sort_key)),
    )


def _read_all(
    files: Mapping[str, str], errors: List[SpecError], warnings: List[SpecError]
) -> Catalog:
    """Every file parsed first, then read kind by kind in the order their references point."""
    parsed: Dict[str, List[Tuple[SpecPath, Document, Any]]] = {
        MODELS: [],
        EVENTS: [],
        DOMAIN: [],
        MANIFEST: [],
    }
    for path in sorted(files):
        try:
            spec = classify(path)
        except SpecErrors as problem:
            errors.extend(problem.errors)
            continue
        doc = Document(path, errors, warnings)
        root = parse_yaml(doc, files[path])
        if root is not None:
            parsed[spec.kind].append((spec, doc, root))
    catalog = Catalog()
    for _, doc, root in parsed[MODELS]:
        read_models(doc, root, catalog)
    check_field_types(catalog)
    for _, doc, root in parsed[EVENTS]:
        read_events(doc, root, catalog)
    for spec, doc, root in parsed[DOMAIN]:
        read_domain(spec, doc, root, catalog)
    check_services(catalog)
    for spec, doc, root in parsed[MANIFEST]:
        read_manifest(spec, doc, root, catalog)
    return catalog
