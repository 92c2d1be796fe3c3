"""The Jinja environment every generator renders with, and the header of generated files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, List

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),  # reloads a template that changed
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["repr"] = repr
    env.filters["rstrip"] = lambda text: text.rstrip("\n")  # a macro's last newline
    env.filters["docstring"] = docstring
    return env


def render(template: str, source: str, comment: str = "#", **context: Any) -> str:
    """Render `template` under the do-not-edit header naming the spec file it came from."""
    header = f"{comment} generated from {source} by specgen; do not edit\n"
    return header + environment().get_template(template).render(**context)


def py_literal(value: Any, indent: str = "") -> str:
    """A deterministic Python literal, one item per line; dict keys keep their insertion order."""
    out: List[str] = []
    _write_literal(value, indent, out)
    return "".join(out)


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})  # repr() is their literal


def _write_literal(value: Any, indent: str, out: List[str]) -> None:
    # One output list for the whole document: nested containers are not re-joined at every level.
    if isinstance(value, dict) and value:
        inner = indent + "    "
        out.append("{\n")
        for key, item in value.items():
            if type(item) in _SCALAR_TYPES:
                out.append(f"{inner}{key!r}: {item!r},\n")
            elif _is_container(item):
                out.append(f"{inner}{key!r}: ")
                _write_literal(item, inner, out)
                out.append(",\n")
            else:
                out.append(f"{inner}{key!r}: {_leaf(item)},\n")
        out.append(indent + "}")
    elif isinstance(value, (list, tuple)) and value:
        inner = indent + "    "
        out.append("[\n")
        for item in value:
            if type(item) in _SCALAR_TYPES:
                out.append(f"{inner}{item!r},\n")
            elif _is_container(item):
                out.append(inner)
                _write_literal(item, inner, out)
                out.append(",\n")
            else:
                out.append(f"{inner}{_leaf(item)},\n")
        out.append(indent + "]")
    else:
        out.append(_leaf(value))


def _is_container(value: Any) -> bool:
    """Whether py_literal spreads the value over lines: a non-empty dict, list or tuple."""
    return isinstance(value, (dict, list, tuple)) and bool(value)


def _leaf(value: Any) -> str:
    return repr(list(value) if isinstance(value, tuple) else value)


def docstring(text: str) -> str:
    """`text` as a triple-quoted string literal, whatever quotes or backslashes it holds."""
    escaped = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{escaped}"""'
