from __future__ import annotations

from specgen.errors import SpecError
from specgen.yaml_reader import Document, parse_yaml


def _parse(text: str) -> tuple[object, list[str]]:
    errors: list[SpecError] = []
    value = parse_yaml(Document("svc/spec/manifest.yaml", errors), text)
    return value, [str(error) for error in errors]


def test_every_key_path_has_its_line_and_duplicates_are_rejected() -> None:
    errors: list[SpecError] = []
    doc = Document("svc/spec/manifest.yaml", errors)
    value = parse_yaml(doc, "consumes:\n  - service: a\n    service: b\n    domain: d\n")
    assert value == {"consumes": [{"service": "a", "domain": "d"}]}
    assert doc.line(("consumes", 0, "domain")) == 4
    assert [str(e) for e in errors] == [
        "svc/spec/manifest.yaml:3: consumes[0].service: duplicate key 'service'"
    ]


def test_an_alias_shares_the_value_of_its_anchor() -> None:
    value, errors = _parse("base: &base {type: string}\nname: *base\nother: *base\n")
    assert errors == []
    assert value == {
        "base": {"type": "string"},
        "name": {"type": "string"},
        "other": {"type": "string"},
    }
    assert value["name"] is value["other"]  # read once, however often it is named


def test_an_alias_inside_its_own_anchor_is_an_error_not_a_crash() -> None:
    value, errors = _parse("models: &m\n  User: *m\nlist: &l [*l]\n")
    assert value == {"models": {"User": None}, "list": [None]}
    assert errors == [
        "svc/spec/manifest.yaml:2: models.User: an alias names a node that contains it",
        "svc/spec/manifest.yaml:3: list[0]: an alias names a node that contains it",
    ]
