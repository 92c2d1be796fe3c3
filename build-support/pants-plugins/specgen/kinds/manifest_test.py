from __future__ import annotations

import textwrap

import pytest

from specgen.kinds.manifest import consumed_domains

MANIFEST = "tg_bot/spec/manifest.yaml"


def test_names_each_consumed_domain() -> None:
    text = textwrap.dedent("""\
        consumes:
          - service: backend
            domain: users
            operations: [get_user]
          - {service: shop, domain: orders}
        """)
    assert consumed_domains(MANIFEST, text) == {("backend", "users"), ("shop", "orders")}


@pytest.mark.parametrize(
    "text",
    [
        "consumes: [",  # not YAML
        "",  # empty
        "- service: backend\n  domain: users\n",  # a list, not a mapping
        "consumes: {service: backend, domain: users}\n",  # consumes is no list
        "consumes: [backend.users, 7, null]\n",  # entries that are no mappings
        "consumes:\n  - {service: backend}\n  - {domain: users}\n",  # half an entry each
        "consumes:\n  - {service: [backend], domain: users}\n",  # a list where a name goes
    ],
)
def test_a_malformed_manifest_names_nothing_and_raises_nothing(text: str) -> None:
    # Loading the manifest reports these; finding its inputs must not fail first.
    assert consumed_domains(MANIFEST, text) == frozenset()


def test_a_malformed_entry_leaves_the_well_formed_ones() -> None:
    text = "consumes:\n  - {service: backend, domain: users, operation: [x]}\n  - nonsense\n"
    assert consumed_domains(MANIFEST, text) == {("backend", "users")}


def test_nested_aliases_are_read_once() -> None:
    # A "billion laughs": 10**9 leaves written in ten lines, read in a blink rather than hours.
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "\n".join(lines) + "\nconsumes:\n  - {service: backend, domain: users}\n"
    assert consumed_domains(MANIFEST, text) == {("backend", "users")}
