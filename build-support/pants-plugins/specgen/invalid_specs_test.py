"""Every folder of testdata/invalid is a spec set that must fail with exactly its expected.txt."""

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
        load(_spec_files(case))
    assert str(raised.value) == (case / "expected.txt").read_text().rstrip("\n")
