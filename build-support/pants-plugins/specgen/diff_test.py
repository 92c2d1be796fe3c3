from __future__ import annotations

import textwrap
from typing import Dict, List, Tuple

import pytest

from specgen import load
from specgen.diff import (
    NARROWED,
    SAME,
    WIDENED,
    compare,
    constraint_change,
    type_change,
)
from specgen.ir import DictType, EnumType, ListType, ModelType, OptionalType, ScalarType, TypeRef

MODELS = "shared/spec/models.yaml"
EVENTS = "shared/spec/events.yaml"
USERS = "backend/spec/users.yaml"

# The old side of every case: a model used as input (UserCreate), as output (UserRead) and as an
# event message (UserRegistered), one event and one domain.
BASE = {
    MODELS: """
        models:
          User:
            description: A user.
            fields:
              id: {type: int, readonly: true}
              name: {type: string, max_length: 20}
              score: {type: int}
              nickname: {type: string, optional: true}
              role: {type: {type: enum, values: [admin, member, guest]}}
            variants:
              Create: {}
              Read: {}
          UserRegistered:
            fields:
              id: {type: int}
        """,
    EVENTS: """
        events:
          user_registered: {message: UserRegistered, publish: true, subscribe: true}
        """,
    USERS: """
        domain: users
        config: {rest: {prefix: "/users"}}
        operations:
          create_user:
            input: UserCreate
            output: UserRead
            rest: {method: POST, path: ""}
            events: {publish_on_success: user_registered}
          get_user:
            output: UserRead
            params:
              - {name: user_id, type: int}
              - {name: verbose, type: bool, source: query, default: false}
            rest: {method: GET, path: "/{user_id}"}
        """,
}
BASE = {path: textwrap.dedent(text).lstrip("\n") for path, text in BASE.items()}


def _diff(
    *edits: Tuple[str, str, str], base: Dict[str, str] = BASE, where: str = ""
) -> Tuple[List[str], List[str]]:
    """(breaking, safe) as text after applying (file, old text, new text) edits to `base`; only
    the changes whose place contains `where`."""
    new = dict(base)
    for path, before, after in edits:
        assert before in new[path], f"{before!r} is not in {path}"
        new[path] = new[path].replace(before, after)
    changes = compare(load(base), load(new))
    return (
        [str(c) for c in changes.breaking if where in c.where],
        [str(c) for c in changes.safe if where in c.where],
    )


def test_identical_specs_have_no_changes() -> None:
    assert _diff() == ([], [])


# ---------------------------------------------------------------------------- breaking


def test_removed_model_breaks() -> None:
    breaking, _ = _diff(
        (
            MODELS,
            "  UserRegistered:\n    fields:\n      id: {type: int}\n",
            "  Other:\n    fields:\n      id: {type: int}\n",
        ),
        (EVENTS, "UserRegistered", "Other"),
    )
    assert "models.UserRegistered: model removed" in breaking
    assert "events.user_registered: message changed: UserRegistered -> Other" in breaking


def test_renamed_field_breaks_as_a_removal() -> None:
    breaking, safe = _diff((MODELS, "nickname:", "alias:"))
    assert breaking == [
        f"models.{c}.fields.nickname: field removed" for c in ("User", "UserCreate", "UserRead")
    ]
    assert safe == [
        f"models.{c}.fields.alias: optional field added" for c in ("User", "UserCreate", "UserRead")
    ]


def test_removed_and_renamed_operations_break() -> None:
    breaking, safe = _diff((USERS, "get_user:", "fetch_user:"))
    assert breaking == ["backend.users.get_user: operation removed"]
    assert safe == ["backend.users.fetch_user: operation added"]


def test_narrowed_type_breaks_what_clients_send() -> None:
    breaking, _ = _diff((MODELS, "score: {type: int}", "score: {type: int, ge: 0}"))
    assert "models.UserCreate.fields.score: constraints narrowed" in breaking


def test_narrowed_enum_breaks_and_widened_type_breaks_what_clients_receive() -> None:
    breaking, _ = _diff(
        (MODELS, "values: [admin, member, guest]", "values: [admin, member]"),
        (MODELS, "score: {type: int}", "score: {type: float}"),
    )
    assert (
        "models.UserCreate.fields.role: type narrowed: enum[admin,member,guest] -> enum[admin,member]"
        in breaking
    )
    assert "models.UserRead.fields.score: type widened: int -> float" in breaking
    # UserCreate is only ever sent: it may accept more.
    assert "models.UserCreate.fields.score: type widened: int -> float" not in breaking


def test_unrelated_type_change_breaks() -> None:
    breaking, _ = _diff((MODELS, "score: {type: int}", "score: {type: string}"))
    assert "models.UserRead.fields.score: type changed: int -> string" in breaking


def test_optional_field_made_required_breaks_inputs() -> None:
    breaking, safe = _diff(
        (MODELS, "nickname: {type: string, optional: true}", "nickname: {type: string}")
    )
    assert "models.UserCreate.fields.nickname: made required" in breaking
    # Responses that now always carry the field do not hurt their readers.
    assert "models.UserRead.fields.nickname: made required" in safe


def test_field_made_nullable_breaks_outputs() -> None:
    breaking, safe = _diff((MODELS, "score: {type: int}", "score: {type: int, optional: true}"))
    assert "models.UserRead.fields.score: made nullable" in breaking
    assert "models.UserCreate.fields.score: no longer required" in safe


def test_new_required_field_breaks_inputs_only() -> None:
    breaking, safe = _diff((MODELS, "      role:", "      email: {type: string}\n      role:"))
    assert "models.UserCreate.fields.email: required field added" in breaking
    assert "models.UserRead.fields.email: required field added" in safe


def test_changed_route_and_status_break() -> None:
    breaking, _ = _diff(
        (USERS, 'method: POST, path: ""}', 'method: POST, path: "/new", status: 200}')
    )
    assert breaking == [
        "backend.users.create_user: route changed: POST '' -> POST '/new'",
        "backend.users.create_user: status changed: 201 -> 200",
    ]


def test_a_required_if_match_breaks_and_an_optional_one_does_not() -> None:
    route = 'rest: {method: DELETE, path: "/{user_id}"}'
    base = {
        **BASE,
        USERS: BASE[USERS]
        + f"  delete_user:\n    params: [{{name: user_id, type: int}}]\n    {route}\n",
    }
    required = route[:-1] + ", if_match: required}"
    optional = route[:-1] + ", if_match: optional}"
    assert _diff((USERS, route, required), base=base) == (
        ["backend.users.delete_user: If-Match required: a client that sends none gets 428"],
        [],
    )
    assert _diff((USERS, route, optional), base=base) == (
        [],
        ["backend.users.delete_user: If-Match optional"],
    )


def test_changed_prefix_breaks() -> None:
    breaking, _ = _diff((USERS, 'prefix: "/users"', 'prefix: "/people"'))
    assert breaking == ["backend.users: route prefix changed: '/users' -> '/people'"]


def test_removed_event_breaks() -> None:
    breaking, _ = _diff(
        (
            EVENTS,
            "  user_registered: {message: UserRegistered, publish: true, subscribe: true}\n",
            "  other: {message: UserRegistered}\n",
        ),
        (USERS, "    events: {publish_on_success: user_registered}\n", ""),
    )
    assert "events.user_registered: event removed" in breaking
    assert (
        "backend.users.create_user: events.publish_on_success changed: user_registered -> None"
        in breaking
    )


def test_changed_input_and_output_break() -> None:
    breaking, _ = _diff(
        (USERS, "input: UserCreate", "input: UserRead"),
        (
            USERS,
            "    output: UserRead\n    params",
            "    output: list[UserRead]\n    params",
        ),
    )
    assert breaking == [
        "backend.users.create_user: input changed: UserCreate -> UserRead",
        "backend.users.get_user: output changed: UserRead -> list[UserRead]",
    ]


def test_parameter_rules() -> None:
    breaking, safe = _diff(
        (
            USERS,
            "- {name: verbose, type: bool, source: query, default: false}",
            "- {name: limit, type: int, source: query, required: true}",
        ),
    )
    assert breaking == [
        "backend.users.get_user.params.limit: required parameter added",
        "backend.users.get_user.params.verbose: parameter removed",
    ]
    assert safe == []


# ---------------------------------------------------------------------------- safe


def test_added_optional_field_operation_model_and_event_are_safe() -> None:
    breaking, safe = _diff(
        (
            MODELS,
            "      role:",
            "      bio: {type: string, optional: true}\n      role:",
        ),
        (
            MODELS,
            "  UserRegistered:",
            "  Team:\n    fields:\n      id: {type: int}\n  UserRegistered:",
        ),
        (
            EVENTS,
            "events:\n",
            "events:\n  team_created: {message: Team, publish: true}\n",
        ),
        (
            USERS,
            "operations:\n",
            "operations:\n  ping:\n    rest: {method: GET, path: /ping}\n",
        ),
    )
    assert breaking == []
    assert safe == [
        "backend.users.ping: operation added",
        "events.team_created: event added",
        "models.Team: model added",
        "models.User.fields.bio: optional field added",
        "models.UserCreate.fields.bio: optional field added",
        "models.UserRead.fields.bio: optional field added",
    ]


def test_description_changes_are_safe() -> None:
    breaking, safe = _diff((MODELS, "description: A user.", "description: Anyone."))
    # Variants carry their model's description.
    assert breaking == []
    assert safe == [f"models.{c}: description changed" for c in ("User", "UserCreate", "UserRead")]


def test_widened_parameter_is_safe() -> None:
    assert _diff((USERS, "{name: user_id, type: int}", "{name: user_id, type: float}")) == (
        [],
        ["backend.users.get_user.params.user_id: type widened: int -> float"],
    )


# ---------------------------------------------------------------------------- auth


def _auth_diff(old: str, new: str) -> Tuple[List[str], List[str]]:
    """(breaking, safe) when get_user's auth goes from `old` to `new`."""
    line = "    output: UserRead\n    params:"
    base = {**BASE, USERS: BASE[USERS].replace(line, f"    auth: {old}\n{line}")}
    return _diff((USERS, f"auth: {old}", f"auth: {new}"), base=base)


@pytest.mark.parametrize(
    "old, new, change",
    [
        ("public", "user", "narrowed"),
        ("user", "admin", "narrowed"),
        ("[admin, service]", "admin", "narrowed"),
        ("{roles: [admin], owner: user_id}", "admin", "narrowed"),
        ("{roles: [admin], owner: user_id}", "{owner: user_id}", "narrowed"),
        ("admin", "service", "changed"),
    ],
)
def test_auth_admitting_fewer_callers_breaks(old: str, new: str, change: str) -> None:
    assert _auth_diff(old, new) == ([f"backend.users.get_user: auth {change}: {old} -> {new}"], [])


@pytest.mark.parametrize(
    "old, new",
    [
        ("user", "public"),
        ("admin", "user"),
        ("admin", "[admin, service]"),
        ("admin", "{roles: [admin], owner: user_id}"),
        ("{owner: user_id}", "{roles: [service], owner: user_id}"),
    ],
)
def test_auth_admitting_more_callers_is_safe(old: str, new: str) -> None:
    assert _auth_diff(old, new) == ([], [f"backend.users.get_user: auth widened: {old} -> {new}"])


def test_reordered_roles_are_no_change() -> None:
    assert _auth_diff("[admin, service]", "[service, admin]") == ([], [])


def test_a_field_made_admin_only_breaks_what_clients_send() -> None:
    made = (MODELS, "score: {type: int}", "score: {type: int, admin_only: true}")
    breaking, safe = _diff(made, where="score")
    # User is in no operation or event, so clients may build it: sent too.
    assert breaking == [
        "models.User.fields.score: made admin_only",
        "models.UserCreate.fields.score: made admin_only",
    ]
    assert safe == ["models.UserRead.fields.score: made admin_only"]
    restricted = {**BASE, MODELS: BASE[MODELS].replace(made[1], made[2])}
    breaking, safe = _diff((MODELS, made[2], made[1]), base=restricted, where="UserCreate")
    assert (breaking, safe) == ([], ["models.UserCreate.fields.score: no longer admin_only"])


def test_a_domain_taken_out_of_a_profile_breaks() -> None:
    config = 'config: {rest: {prefix: "/users"}}'
    development_only = 'config: {rest: {prefix: "/users"}, profiles: [development]}'
    assert _diff((USERS, config, development_only)) == (
        ["backend.users: no longer served in the production profile"],
        [],
    )
    narrowed = {**BASE, USERS: BASE[USERS].replace(config, development_only)}
    assert _diff((USERS, development_only, config), base=narrowed) == (
        [],
        ["backend.users: now served in the production profile"],
    )


# ---------------------------------------------------------------------------- the type lattice


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (ScalarType("int"), ScalarType("int"), SAME),
        (
            ScalarType("int"),
            OptionalType(ScalarType("int")),
            WIDENED,
        ),
        (
            OptionalType(ScalarType("float")),
            ScalarType("int"),
            NARROWED,
        ),
        (
            ListType(ScalarType("int")),
            ListType(ScalarType("float")),
            WIDENED,
        ),
        (EnumType(("a", "b")), EnumType(("b", "a")), SAME),
        (
            EnumType(("a", "b")),
            EnumType(("a", "c")),
            "changed",
        ),
        (ModelType("User"), ModelType("Team"), "changed"),
        (
            OptionalType(ScalarType("int")),
            OptionalType(ScalarType("float")),
            WIDENED,
        ),
        (
            DictType(ScalarType("string"), ScalarType("float")),
            DictType(ScalarType("string"), ScalarType("int")),
            NARROWED,
        ),
        (
            DictType(ScalarType("string"), ScalarType("int")),
            DictType(ScalarType("int"), ScalarType("int")),
            "changed",
        ),
        # The same inner type under different kinds: a list is not an optional.
        (ListType(ScalarType("int")), OptionalType(ScalarType("int")), "changed"),
        (OptionalType(ScalarType("int")), ListType(ScalarType("int")), "changed"),
        (ScalarType("uuid"), ModelType("uuid"), "changed"),
    ],
)
def test_type_change(old: TypeRef, new: TypeRef, expected: str) -> None:
    assert type_change(old, new) == expected


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ((), (("max_length", 5),), NARROWED),
        ((("max_length", 5),), (("max_length", 9),), WIDENED),
        ((("ge", 0),), (("ge", 1),), NARROWED),
        ((("ge", 1), ("le", 5)), (("ge", 0), ("le", 4)), "changed"),
    ],
)
def test_constraint_change(old, new, expected: str) -> None:
    assert constraint_change(old, new) == expected


# ---------------------------------------------------------------------------- storage

STORED = {
    **BASE,
    USERS: BASE[USERS].replace(
        "operations:",
        "storage:\n  User: {table: users, primary_key: id}\noperations:",
    ),
}


def _storage_diff(*edits: Tuple[str, str, str]) -> Tuple[List[str], List[str]]:
    """(breaking, safe) of the storage changes, after applying the edits to STORED."""
    return _diff(*edits, base=STORED, where=".storage.")


def test_a_dropped_column_breaks_the_database() -> None:
    breaking, _ = _storage_diff((MODELS, "      score: {type: int}\n", ""))
    assert breaking == ["backend.storage.User.score: column users.score dropped with its data"]


def test_a_not_null_column_without_default_breaks_the_rows_already_there() -> None:
    breaking, safe = _storage_diff(
        (
            MODELS,
            "      score: {type: int}\n",
            "      score: {type: int}\n      level: {type: int}\n"
            "      rank: {type: int, default: 0}\n      note: {type: string, optional: true}\n",
        )
    )
    assert len(breaking) == 1 and breaking[0].startswith(
        "backend.storage.User.level: NOT NULL column users.level added without a default"
    )
    assert safe == [
        "backend.storage.User.note: column users.note added",
        "backend.storage.User.rank: column users.rank added",
    ]


def test_a_version_column_is_filled_by_the_database() -> None:
    breaking, safe = _storage_diff(
        (
            MODELS,
            "      score: {type: int}\n",
            "      score: {type: int}\n      revision: {type: int, readonly: true}\n",
        ),
        (
            USERS,
            "{table: users, primary_key: id}",
            "{table: users, primary_key: id, version: revision}",
        ),
    )
    assert (breaking, safe) == ([], ["backend.storage.User.revision: column users.revision added"])


def test_a_narrowed_column_type_breaks_and_an_api_bound_does_not() -> None:
    breaking, _ = _storage_diff(
        (MODELS, "name: {type: string, max_length: 20}", "name: {type: string, max_length: 10}"),
        (MODELS, "score: {type: int}", "score: {type: int, ge: 0}"),
        (MODELS, "nickname: {type: string, optional: true}", "nickname: {type: string}"),
    )
    assert [change.split(":")[0] for change in breaking] == [
        "backend.storage.User.name",
        "backend.storage.User.nickname",
    ]
    assert "narrowed: ALTER COLUMN ... TYPE fails" in breaking[0]
    assert "made NOT NULL" in breaking[1]


def test_a_renamed_table_and_a_new_unique_key_break() -> None:
    breaking, _ = _storage_diff(
        (USERS, "{table: users, primary_key: id}", "{table: people, primary_key: id}")
    )
    assert breaking == [
        "backend.storage.User: table users dropped with its rows (now people: rename it in the "
        "migration)"
    ]
    breaking, _ = _storage_diff((USERS, "primary_key: id}", "primary_key: id, unique: [name]}"))
    assert breaking == [
        "backend.storage.User.unique: unique (name) added: fails where rows already repeat"
    ]
