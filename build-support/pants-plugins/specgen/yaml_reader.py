"""A line-aware YAML reader: plain values, the line of every key path, duplicate keys rejected.

Problems are collected on a `Document` as `SpecError`s (file, line, key path, message, hint) rather
than raised, so that every file's problems are reported at once.
Runs on Python 3.9 (inside Pants) and 3.11.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from specgen.errors import SpecError

KeyPath = Tuple[Any, ...]  # ("models", "User", "fields", "id") or ("consumes", 0, "domain")


def format_key_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Document:
    """One spec file: its path, the line of every key path, and the shared error and warning lists."""

    def __init__(
        self, file: str, errors: List[SpecError], warnings: Optional[List[SpecError]] = None
    ) -> None:
        self.file = file
        self.errors = errors
        self.warnings = warnings if warnings is not None else []
        self.lines: Dict[KeyPath, int] = {}

    def line(self, path: KeyPath) -> int:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def error(
        self, path: KeyPath, message: str, hint: Optional[str] = None, line: Optional[int] = None
    ) -> None:
        where = line if line is not None else self.line(path)
        self.errors.append(SpecError(self.file, where, format_key_path(path), message, hint))

    def warning(self, path: KeyPath, message: str, hint: Optional[str] = None) -> None:
        """A problem that does not stop generation (see `load`'s `warnings_as_errors`)."""
        self.warnings.append(
            SpecError(self.file, self.line(path), format_key_path(path), message, hint)
        )


# libyaml composes the same nodes (tags, marks) about ten times faster; the pure-Python loader
# stays the reference: it re-reads any document libyaml rejects, so error messages never change.
if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        """CSafeLoader remembering each implicit tag it resolved: specs repeat the same scalars."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._tags: Dict[Any, str] = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if self.yaml_path_resolvers:  # depends on the position, not only on the scalar
                return super().resolve(kind, value, implicit)
            key = (kind, value, implicit)
            tag = self._tags.get(key)
            if tag is None:
                tag = self._tags[key] = super().resolve(kind, value, implicit)
            return tag

    _FAST_LOADER: Optional[type] = _FastLoader
else:
    _FAST_LOADER = None


def _compose(text: str) -> Optional[yaml.Node]:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # report what the pure-Python loader says
    return yaml.compose(text, Loader=yaml.SafeLoader)


# Tags whose SafeConstructor function builds a plain scalar directly from a scalar node.
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float", "str", "timestamp")
)


def _construct_scalar(constructor: yaml.SafeLoader, node: yaml.Node) -> Any:
    """constructor.construct_object(node), minus its bookkeeping for the common scalar tags."""
    if node.tag in _SCALAR_TAGS and isinstance(node, yaml.ScalarNode):
        try:
            return constructor.yaml_constructors[node.tag](constructor, node)
        except Exception:
            pass  # let construct_object raise (and record) exactly what it always did
    return constructor.construct_object(node)


def parse_yaml(doc: Document, text: str) -> Any:
    """The document as plain values (None when unreadable), recording every key path's line."""
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        doc.lines[()] = mark.line + 1 if mark else 1
        doc.error((), f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
        return None
    if node is None:
        doc.error((), "the file is empty")
        return None
    return _Values(doc).of(node, ())


_READING = object()  # a collection whose value is being read: an alias to it is recursive


class _Values:
    """Plain values of one document's nodes. An alias is the node it names, composed once: its
    value is read once too, so nested aliases (a "billion laughs") cost what they take to write."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")
        self.collections: Dict[int, Any] = {}  # id(node) -> its value, or _READING

    def of(self, node: yaml.Node, path: KeyPath) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            try:
                return _construct_scalar(self.constructor, node)
            except (yaml.YAMLError, ValueError) as exc:
                self.doc.error(path, f"invalid value: {getattr(exc, 'problem', None) or exc}")
                return None
        value = self.collections.get(id(node))
        if value is _READING:
            self.doc.error(path, "an alias names a node that contains it")
            return None
        if value is None:
            self.collections[id(node)] = _READING
            if isinstance(node, yaml.MappingNode):
                value = self.mapping(node, path)
            else:
                value = [self.of(item, path + (index,)) for index, item in enumerate(node.value)]
            self.collections[id(node)] = value
        return value

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict:
        result: Dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.doc.error(path, "a key must be a plain name", line=key_line)
                continue
            key = key_node.value  # the text as written: `on:` stays "on", `200:` stays "200"
            if key in result:
                self.doc.error(path + (key,), f"duplicate key '{key}'", line=key_line)
                continue
            self.doc.lines[path + (key,)] = key_line
            result[key] = self.of(value_node, path + (key,))
        return result


_gc_lock = threading.Lock()
_gc_pauses = 0  # loads in progress, across threads
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Holds off the cyclic garbage collector while loading.

    Composing a large spec allocates hundreds of thousands of YAML nodes and marks at once; each
    full collection triggered on the way re-scans all of them (about a third of the load time),
    and none of them is cyclic garbage. Concurrent loads share one pause; the collector is
    re-enabled after the last, and only if it was enabled before the first.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
