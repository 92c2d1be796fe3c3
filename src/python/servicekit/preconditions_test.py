"""If-Match as clients send it: the versions a change may apply to, or a clear 400/428."""

from __future__ import annotations

import pytest

from servicekit.preconditions import (
    IfMatch,
    MalformedPrecondition,
    PreconditionRequired,
    entity_tag,
    parse_if_match,
)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (None, None),
        ("  ", None),
        ("*", IfMatch(any=True)),
        ('"3"', IfMatch(versions=frozenset({3}))),
        (' "3" , "12",W/"4"', IfMatch(versions=frozenset({3, 12}))),  # weak tags never match
        ('"abc", "3,4"', IfMatch()),  # tags this service never gave
        ('"' + "9" * 5000 + '"', IfMatch()),  # beyond any version, not a 4,300-digit int parse
        ('"9223372036854775808"', IfMatch()),  # one past bigint: no version, not a 500
    ],
)
def test_parsed_header(header: str | None, parsed: IfMatch | None) -> None:
    assert parse_if_match(header, required=False) == parsed


@pytest.mark.parametrize(
    "header", ["3", '"3', '"3" "4"', "W/3", '"3",', '*, "3"', " " * 10_000 + "x"]
)
def test_malformed_header_names_the_header(header: str) -> None:
    with pytest.raises(MalformedPrecondition, match="If-Match"):
        parse_if_match(header, required=False)


def test_a_required_header_that_is_missing() -> None:
    with pytest.raises(PreconditionRequired, match="If-Match"):
        parse_if_match(None, required=True)


def test_the_etag_is_what_if_match_takes_back() -> None:
    assert parse_if_match(entity_tag(7), required=True) == IfMatch(versions=frozenset({7}))
