"""Every folder of testdata/invalid is a spec set that must fail with exactly its expected.txt.

`warning_*` folders hold problems the loader only warns about: they fail like the others with
`warnings_as_errors`, and load without it, with the same text as warnings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from specgen.errors import SpecErrors
from specgen.loader import load

CASES = Path(__file__).parent / "testdata" / "invalid"


def _case_names() -> List[str]:
    return sorted(path.name for path in CASES.iterdir() if path.is_dir())


def _spec_files(case: Path) -> Dict[str, str]:
    return {path.relative_to(case).as_posix(): path.read_text() for path in case.rglob("*.yaml")}


def test_the_corpus_is_large_enough() -> None:
    assert len(_case_names()) >= 35


@pytest.mark.parametrize("name", _case_names())
def test_invalid_spec_set_fails_with_expected_errors(name: str) -> None:
    case = CASES / name
    with pytest.raises(SpecErrors) as raised:
        load(_spec_files(case), warnings_as_errors=True)
    assert str(raised.value) == (case / "expected.txt").read_text().rstrip("\n")


@pytest.mark.parametrize("name", [name for name in _case_names() if name.startswith("warning_")])
def test_a_warning_does_not_stop_the_load(name: str) -> None:
    case = CASES / name
    spec = load(_spec_files(case))
    assert str(SpecErrors(spec.warnings)) == (case / "expected.txt").read_text().rstrip("\n")
