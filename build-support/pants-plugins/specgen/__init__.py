"""specgen: load spec files into the typed IR (`ir.py`) and generate code from it."""

from specgen.errors import SpecError, SpecErrors
from specgen.layout import module_names, spec_kind
from specgen.loader import load

__all__ = ["SpecError", "SpecErrors", "load", "module_names", "spec_kind"]
