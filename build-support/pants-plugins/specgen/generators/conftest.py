"""Fixtures: spec sets read from disk, generated into tmp_path and importable as `generated.*`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, Mapping

import pytest

from specgen import load
from specgen.generate import generate_python

SHOP = Path(__file__).parent / "testdata" / "shop"
COMPAT = Path(__file__).parent.parent / "testdata" / "compat"
TEMPLATE = COMPAT.parent / "template"  # the template's current spec set


def read_specs(root: Path) -> Dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*.yaml"))}


def generate_all(files: Mapping[str, str]) -> Dict[str, str]:
    spec = load(files)
    outputs: Dict[str, str] = {}
    for path in files:
        outputs.update(generate_python(spec, path))
    return outputs


def write_outputs(outputs: Mapping[str, str], root: Path) -> None:
    for relative, text in outputs.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def _forget_generated() -> None:
    for name in [
        name for name in sys.modules if name == "generated" or name.startswith("generated.")
    ]:
        del sys.modules[name]


@pytest.fixture
def generate_into_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Path], Path]]:
    """Generates a spec directory into tmp_path and puts it first on sys.path."""

    def generate(spec_root: Path) -> Path:
        write_outputs(generate_all(read_specs(spec_root)), tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        return tmp_path

    _forget_generated()  # each test imports its own generated tree
    yield generate
    _forget_generated()
