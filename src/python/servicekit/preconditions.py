"""Optimistic concurrency over HTTP (RFC 9110's conditional requests): a stored model with a
`version` answers it as its `ETag`, and a route whose spec says `if_match` takes the header back,
so a change applies only to the version the client read (else 412, not a lost update).

`servicekit.errors` answers the errors here: `MalformedPrecondition` 400, `PreconditionRequired`
428, and the repository's `PreconditionFailed` 412.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One entity tag of an If-Match list: optionally weak, then quoted (RFC 9110, 8.8.3).
_ENTITY_TAG = r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*'
_ENTITY_TAG_LIST = re.compile(f"{_ENTITY_TAG}(?:,{_ENTITY_TAG})*")
_ONE_TAG = re.compile(_ENTITY_TAG)
# A version the database can hold (a bigint): a tag beyond it matches none.
_VERSION = re.compile(r"[0-9]{1,19}")
_MAX_VERSION = 2**63 - 1


class MalformedPrecondition(ValueError):
    """An If-Match header that is neither `*` nor a list of quoted entity tags."""


class PreconditionRequired(Exception):
    """A route that changes a versioned resource only with If-Match got none."""


@dataclass(frozen=True)
class IfMatch:
    """The versions a change may apply to: any existing one for `*`, else those of the strong
    tags (a weak tag never matches: RFC 9110's strong comparison)."""

    versions: frozenset[int] = frozenset()
    any: bool = False


def entity_tag(version: int) -> str:
    """The ETag of a row at `version`: `"3"`."""
    return f'"{version}"'


def parse_if_match(header: str | None, *, required: bool) -> IfMatch | None:
    """The If-Match header of a request; None when there is none and none is required."""
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired(
                "this change needs an If-Match header: the ETag of the version it applies to"
            )
        return None
    if header.strip() == "*":
        return IfMatch(any=True)
    if not _ENTITY_TAG_LIST.fullmatch(header):
        raise MalformedPrecondition(
            'If-Match: expected "*" or quoted entity tags such as "3", as the ETag header gives '
            "them"
        )
    return IfMatch(
        versions=frozenset(
            int(tag)
            for weak, tag in _ONE_TAG.findall(header)
            if not weak and _VERSION.fullmatch(tag) and int(tag) <= _MAX_VERSION
        )
    )
