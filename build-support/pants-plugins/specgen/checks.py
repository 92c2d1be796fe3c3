"""Structural checks of parsed YAML values: each records a clear error on the document and never raises."""

from __future__ import annotations

import difflib
import keyword
import re
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

from specgen.yaml_reader import Document, KeyPath

_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


def is_identifier(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def is_camel_case(name: str) -> bool:
    return bool(_CAMEL_CASE.match(name))


def is_snake_case(name: str) -> bool:
    return bool(_SNAKE_CASE.match(name))


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


@dataclass(frozen=True)
class Shape:
    """The keys one kind of mapping in a spec may hold: each file kind declares its shapes once."""

    required: Tuple[str, ...] = ()
    optional: Tuple[str, ...] = ()

    @property
    def keys(self) -> Tuple[str, ...]:
        return self.required + self.optional

    def check(self, doc: Document, path: KeyPath, body: dict) -> None:
        check_keys(doc, path, body, self.keys, self.required)

    def read(
        self, doc: Document, path: KeyPath, value: Any, null_is_empty: bool = False
    ) -> Optional[dict]:
        """The mapping with its unknown and missing keys recorded; None when it is no mapping."""
        body = expect_mapping(doc, path, value, null_is_empty)
        if body is not None:
            self.check(doc, path, body)
        return body


def section(doc: Document, root: Any, key: str) -> dict:
    """The body of a file holding one top-level key, such as `models:`; null is empty."""
    body = Shape(required=(key,)).read(doc, (), root)
    if body is None:
        return {}
    return expect_mapping(doc, (key,), body.get(key), null_is_empty=True) or {}


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
