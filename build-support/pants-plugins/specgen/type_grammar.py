"""The type grammar of specs: `string`, `list[T]`, `dict[K,V]`, model names and the mapping forms.

Type text is parsed into `TypeRef`s; problems are recorded on the document with a hint. Also which
defaults fit a type and which constraints (ge, max_length...) apply to it.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Dict, List, Optional, Tuple, Type, Union

from specgen.checks import check_keys, describe, did_you_mean, is_number, show, string_list
from specgen.ir import (
    MISSING,
    SCALARS,
    DictType,
    EnumType,
    ListType,
    ModelType,
    OptionalType,
    ScalarType,
    TypeRef,
)
from specgen.yaml_reader import Document, KeyPath

_ENUM_VALUE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_NUMERIC_CONSTRAINTS = ("ge", "gt", "le", "lt")
_LENGTH_CONSTRAINTS = ("min_length", "max_length")
CONSTRAINTS = _NUMERIC_CONSTRAINTS + _LENGTH_CONSTRAINTS  # the keys a field or parameter may add
_TYPE_FORM_KEYS = {
    "list": ("type", "of"),
    "optional": ("type", "of"),
    "dict": ("type", "key", "value"),
    "enum": ("type", "values", "default"),
}
_WRAPPERS: Dict[str, Type[Union[ListType, OptionalType]]] = {
    "list": ListType,
    "optional": OptionalType,
}
# Other languages' names for our types: rejected, with ours as the hint.
_TYPE_ALIASES = {
    "integer": "int",
    "long": "int",
    "text": "string",
    "boolean": "bool",
    "double": "float",
    "number": "float",
    "decimal": "float",
    "timestamp": "datetime",
    "date": "datetime",
    "guid": "uuid",
    "array": "list",
    "map": "dict",
    "object": "dict",
}


class _TypeProblem(Exception):
    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def type_text(type_: TypeRef) -> str:
    """The shorthand spelling of a type, for messages."""
    if type(type_) is ScalarType or type(type_) is ModelType:
        return type_.name
    if type(type_) is DictType:
        return f"dict[{type_text(type_.key)},{type_text(type_.value)}]"
    if type(type_) is EnumType:
        return f"enum[{','.join(type_.values)}]"
    if type(type_) is ListType:
        return f"list[{type_text(type_.of)}]"
    return f"optional[{type_text(type_.of)}]"


def _parse_type_text(text: str) -> TypeRef:
    if "<" in text or ">" in text:
        raise _TypeProblem(
            f"unknown type '{text}'", f"did you mean '{text.replace('<', '[').replace('>', ']')}'?"
        )
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S", text)
    end, type_ = _parse_type_tokens(tokens, 0, text)
    if end != len(tokens):
        raise _TypeProblem(f"invalid type '{text}'")
    return type_


def _parse_type_tokens(tokens: List[str], position: int, text: str) -> Tuple[int, TypeRef]:
    if position >= len(tokens):
        raise _TypeProblem(f"invalid type '{text}'")
    name, position = tokens[position], position + 1
    has_arguments = position < len(tokens) and tokens[position] == "["
    if name not in ("list", "dict"):
        if has_arguments:
            raise _TypeProblem(
                f"unknown type '{text}'", "only list[T] and dict[K,V] take type arguments"
            )
        return position, _named_type(name)
    if not has_arguments:
        raise _TypeProblem(
            f"'{name}' needs type arguments",
            "write list[T]" if name == "list" else "write dict[K,V]",
        )
    arguments, position = [], position + 1
    while True:
        position, argument = _parse_type_tokens(tokens, position, text)
        arguments.append(argument)
        separator = tokens[position] if position < len(tokens) else ""
        position += 1
        if separator == "]":
            break
        if separator != ",":
            raise _TypeProblem(f"invalid type '{text}'")
    if name == "list" and len(arguments) == 1:
        return position, ListType(arguments[0])
    if name == "dict" and len(arguments) == 2:
        return position, _dict_type(arguments[0], arguments[1])
    raise _TypeProblem(f"invalid type '{text}'", "write list[T] or dict[K,V]")


# Python's names for the scalars the template accepts; int, float and bool are spelled alike.
_PYTHON_SCALARS = {"str": "string"}


def _named_type(name: str) -> TypeRef:
    name = _PYTHON_SCALARS.get(name, name)
    if name in SCALARS:
        return ScalarType(name)
    if name in _TYPE_ALIASES:
        raise _TypeProblem(f"unknown type '{name}'", f"did you mean '{_TYPE_ALIASES[name]}'?")
    if name[:1].isupper():
        return ModelType(name)  # resolved once every model is known
    raise _TypeProblem(f"unknown type '{name}'", did_you_mean(name, SCALARS + ("list", "dict")))


def _dict_type(key: TypeRef, value: TypeRef) -> DictType:
    if type(key) is not ScalarType or key.name == "float":
        raise _TypeProblem(
            f"dict keys must be string, int, bool, datetime or uuid, not '{type_text(key)}'"
        )
    return DictType(key, value)


def _base_type(type_: TypeRef) -> TypeRef:
    return type_.of if type(type_) is OptionalType else type_


def fits(type_: TypeRef, value: Any) -> bool:
    """Whether a default value is valid for the type."""
    if value is None:
        return type(type_) is OptionalType
    if type(type_) is OptionalType:
        return fits(type_.of, value)
    if type(type_) is EnumType:
        return value in type_.values
    if type(type_) is ListType:
        return isinstance(value, list) and all(fits(type_.of, item) for item in value)
    if type(type_) is DictType:
        return isinstance(value, dict) and all(fits(type_.value, item) for item in value.values())
    if type(type_) is ModelType:
        return isinstance(value, dict)
    if type_.name == "bool":
        return isinstance(value, bool)
    if type_.name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_.name == "float":
        return is_number(value)
    if type_.name == "datetime":  # YAML reads an unquoted ISO timestamp as a date or datetime
        return isinstance(value, (str, datetime.date))
    return isinstance(value, str)  # string, uuid


def read_type(doc: Document, path: KeyPath, value: Any) -> Optional[TypeRef]:
    if isinstance(value, dict):
        return _type_form(doc, path, value)
    if not isinstance(value, str):
        doc.error(path, f"expected a type name or a mapping, got {describe(value)}")
        return None
    try:
        return _parse_type_text(value)
    except _TypeProblem as problem:
        doc.error(path, problem.message, problem.hint)
        return None


def _type_form(doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
    """The full form of a type: {type: list|optional, of}, {type: dict, key, value}, {type: enum, ...}."""
    kind = body.get("type")
    if not isinstance(kind, str):
        check_keys(doc, path, body, ("type",), required=("type",))
        if "type" in body:
            doc.error(path + ("type",), f"expected a type name, got {describe(kind)}")
        return None
    allowed = _TYPE_FORM_KEYS.get(kind, ("type",))
    check_keys(doc, path, body, allowed, required=[key for key in allowed if key != "default"])
    if kind == "enum":
        return _enum(doc, path, body)
    if kind not in _TYPE_FORM_KEYS:
        return read_type(doc, path + ("type",), kind)
    if any(key not in body for key in allowed if key != "default"):
        return None
    if kind == "dict":
        return _dict_form(doc, path, body)
    of = read_type(doc, path + ("of",), body["of"])
    return _WRAPPERS[kind](of) if of else None


def _dict_form(doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
    key = read_type(doc, path + ("key",), body["key"])
    value = read_type(doc, path + ("value",), body["value"])
    if key is None or value is None:
        return None
    try:
        return _dict_type(key, value)
    except _TypeProblem as problem:
        doc.error(path + ("key",), problem.message, problem.hint)
        return None


def _enum(doc: Document, path: KeyPath, body: dict) -> Optional[TypeRef]:
    values = string_list(doc, path + ("values",), body.get("values"))
    names = [value for _, value in values]
    for index, value in values:
        if not _ENUM_VALUE.match(value):
            doc.error(
                path + ("values", index),
                f"enum value '{value}' is not a name",
                "use letters, digits and _",
            )
        elif names.index(value) != index:
            doc.error(path + ("values", index), f"duplicate enum value '{value}'")
    if "values" in body and len(set(names)) < 2:
        doc.error(path + ("values",), "an enum needs at least two values")
    default = body.get("default", MISSING)
    if default is not MISSING and default not in names:
        doc.error(
            path + ("default",),
            f"enum default {show(default)} is not one of its values",
            f"use one of {', '.join(dict.fromkeys(names))}",
        )
        default = MISSING
    return EnumType(tuple(names), default)


def read_constraints(
    doc: Document, path: KeyPath, body: dict, type_: TypeRef
) -> Tuple[Tuple[str, Any], ...]:
    base = _base_type(type_)
    found = []
    for key in (key for key in CONSTRAINTS if key in body):
        value = body[key]
        if key in _NUMERIC_CONSTRAINTS:
            applies = type(base) is ScalarType and base.name in ("int", "float")
            valid = is_number(value)
            kinds, expected = "numeric types", "a number"
        else:
            applies = type(base) is ListType or (type(base) is ScalarType and base.name == "string")
            valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            kinds, expected = "string and list types", "a non-negative integer"
        if not applies:
            doc.error(path + (key,), f"'{key}' applies to {kinds} only, not '{type_text(type_)}'")
        elif not valid:
            doc.error(path + (key,), f"'{key}' must be {expected}, got {show(value)}")
        else:
            found.append((key, value))
    return tuple(found)
