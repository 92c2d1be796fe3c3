"""Structural checks of parsed YAML values: each records a clear error on the document and never raises."""

from __future__ import annotations

import difflib
import keyword
from typing import Any, List, Optional, Sequence, Tuple

from specgen.yaml_reader import Document, KeyPath


def is_identifier(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def show(value: Any) -> str:
    """A value as YAML spells it, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def did_you_mean(word: str, candidates: Sequence[str]) -> Optional[str]:
    matches = difflib.get_close_matches(word, list(candidates), n=1)
    return f"did you mean '{matches[0]}'?" if matches else None


def expect_mapping(
    doc: Document, path: KeyPath, value: Any, null_is_empty: bool = False
) -> Optional[dict]:
    if value is None and null_is_empty:
        return {}
    if isinstance(value, dict):
        return value
    doc.error(path, f"expected a mapping, got {describe(value)}")
    return None


def check_keys(
    doc: Document, path: KeyPath, body: dict, allowed: Sequence[str], required: Sequence[str] = ()
) -> None:
    for key in body:
        if key not in allowed:
            doc.error(path + (key,), f"unknown key '{key}'", did_you_mean(key, allowed))
    for key in required:
        if key not in body:
            doc.error(path, f"missing key '{key}'")


def expect_string(doc: Document, path: KeyPath, value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    doc.error(path, f"expected a string, got {describe(value)}")
    return None


def optional_string(doc: Document, path: KeyPath, body: dict, key: str) -> Optional[str]:
    return None if body.get(key) is None else expect_string(doc, path + (key,), body[key])


def expect_bool(doc: Document, path: KeyPath, body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if isinstance(value, bool):
        return value
    doc.error(path + (key,), f"expected true or false, got {describe(value)}")
    return default


def string_list(doc: Document, path: KeyPath, value: Any) -> List[Tuple[int, str]]:
    """(index, item) of the string items; null is an empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        doc.error(path, f"expected a list, got {describe(value)}")
        return []
    items = []
    for index, item in enumerate(value):
        if expect_string(doc, path + (index,), item) is not None:
            items.append((index, item))
    return items


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
