"""The Jinja environment every generator renders with, and the header of generated files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
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
    inner = indent + "    "
    if isinstance(value, dict) and value:
        items = [f"{inner}{key!r}: {py_literal(item, inner)},\n" for key, item in value.items()]
        return "{\n" + "".join(items) + indent + "}"
    if isinstance(value, (list, tuple)) and value:
        items = [f"{inner}{py_literal(item, inner)},\n" for item in value]
        return "[\n" + "".join(items) + indent + "]"
    return repr(list(value) if isinstance(value, tuple) else value)


def docstring(text: str) -> str:
    """`text` as a triple-quoted string literal, whatever quotes or backslashes it holds."""
    escaped = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{escaped}"""'
