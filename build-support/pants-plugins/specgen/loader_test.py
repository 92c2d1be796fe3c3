from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict

import pytest

from specgen import SpecError, SpecErrors, load, module_names, spec_kind
from specgen.ir import (
    MISSING,
    DictType,
    EnumType,
    ListType,
    ModelType,
    Operation,
    OptionalType,
    Rest,
    ScalarType,
)

COMPAT = Path(__file__).parent / "testdata" / "compat"
TEMPLATE = Path(__file__).parent / "testdata" / "template"

MODELS = "shared/spec/models.yaml"
EVENTS = "shared/spec/events.yaml"


def rest_of(operation: Operation) -> Rest:
    assert operation.rest is not None, f"{operation.name} has no rest transport"
    return operation.rest


def _compat_files(root: Path = COMPAT) -> Dict[str, str]:
    return {path.relative_to(root).as_posix(): path.read_text() for path in root.rglob("*.yaml")}


def _yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _fields(spec, class_name):
    return {field.name: field for field in spec.schema(class_name).fields}


# ---------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "path, kind, modules",
    [
        ("shared/spec/models.yaml", "models", ("generated.models",)),
        ("repo/shared/spec/events.yaml", "events", ("generated.events",)),
        (
            "backend/spec/users.yaml",
            "domain",
            ("generated.backend.users", "generated.backend.storage.users"),
        ),
        (
            "src/python/backend/spec/users.yaml",
            "domain",
            ("generated.backend.users", "generated.backend.storage.users"),
        ),
        ("tg_bot/spec/manifest.yaml", "manifest", ("generated.tg_bot.clients",)),
    ],
)
def test_kind_and_modules_come_from_the_path(
    path: str, kind: str, modules: tuple[str, ...]
) -> None:
    assert spec_kind(path) == kind
    assert module_names(path) == modules


def test_a_path_outside_the_layout_is_an_error() -> None:
    with pytest.raises(SpecErrors) as raised:
        module_names("backend/users.yaml")
    assert str(raised.value).startswith("backend/users.yaml:1: not a spec file path")


def test_error_text_has_file_line_key_path_and_hint() -> None:
    error = SpecError("a.yaml", 3, "models.User", "unknown key 'x'", "did you mean 'y'?")
    assert str(error) == "a.yaml:3: models.User: unknown key 'x' (hint: did you mean 'y'?)"
    assert str(SpecError("a.yaml", 1, "", "the file is empty")) == "a.yaml:1: the file is empty"


# ---------------------------------------------------------------------------- the compat specs


def test_compat_specs_load_unchanged() -> None:
    spec = load(_compat_files())
    assert [schema.class_name for schema in spec.schemas] == [
        "User",
        "UserCreate",
        "UserUpdate",
        "UserRead",
        "UserRegisteredEvent",
        "CommandReceived",
        "CommandReceivedCreate",
    ]
    assert [
        (event.name, event.message, event.publish, event.subscribe) for event in spec.events
    ] == [
        ("user_registered", "UserRegisteredEvent", True, False),
        ("command_received", "CommandReceived", True, True),
    ]


def test_the_templates_current_spec_set_loads_with_a_warning() -> None:
    spec = load(_compat_files(TEMPLATE))
    assert [str(warning) for warning in spec.warnings] == [
        "notifications_worker/spec/notifications.yaml:9: operations.send_welcome.events.subscribe:"
        " event 'user_registered' says 'subscribe: false' in shared/spec/events.yaml but this"
        " operation subscribes to it (hint: set 'subscribe: true' on it in events.yaml)"
    ]
    assert spec.event("user_registered").subscribe  # as used, for the AsyncAPI document
    (username,) = spec.domain("backend", "users").operations[0].params
    assert username.type == ScalarType("string")
    with pytest.raises(SpecErrors, match="says 'subscribe: false'"):
        load(_compat_files(TEMPLATE), warnings_as_errors=True)


def test_compat_variants_resolve_required_and_optional_fields() -> None:
    spec = load(_compat_files())
    user = _fields(spec, "User")
    assert [name for name, field in user.items() if field.required] == [
        "id",
        "telegram_id",
        "created_at",
        "updated_at",
    ]
    assert user["telegram_id"].constraints == (("ge", 0),)
    assert user["is_admin"].default is False
    create = _fields(spec, "UserCreate")
    assert list(create) == ["telegram_id", "is_admin"]  # readonly fields drop out
    assert create["telegram_id"].required and not create["is_admin"].required
    update = _fields(spec, "UserUpdate")
    assert list(update) == ["telegram_id", "is_admin"]
    assert not any(field.required for field in update.values())
    assert list(_fields(spec, "UserRead")) == list(user)  # Read keeps readonly fields
    command = _fields(spec, "CommandReceivedCreate")
    assert command["timestamp"].optional and command["command"].required
    assert command["args"].type == ListType(ScalarType("string"))


def test_compat_domains_resolve_routes_and_params() -> None:
    spec = load(_compat_files())
    users = spec.domain("backend", "users")
    assert (users.prefix, users.tags, users.file) == (
        "/users",
        ("users",),
        "backend/spec/users.yaml",
    )
    routes = {
        op.name: (rest_of(op).method, rest_of(op).path, rest_of(op).status)
        for op in users.operations
    }
    assert routes == {
        "create_user": ("POST", "", 201),
        "get_user": ("GET", "/{user_id}", 200),
        "update_user": ("PUT", "/{user_id}", 200),
        "delete_user": ("DELETE", "/{user_id}", 204),
    }
    get_user = users.operations[1]
    (param,) = get_user.params
    assert (param.name, param.source, param.required, param.type) == (
        "user_id",
        "path",
        True,
        ScalarType("int"),
    )
    assert get_user.output.schema == "UserRead" and not get_user.output.is_list
    assert users.operations[3].output.schema is None
    command = spec.domain("backend", "debug").operations[0]
    assert (command.input, rest_of(command).status) == ("CommandReceivedCreate", 202)


def test_compat_manifest_resolves_consumed_operations() -> None:
    spec = load(_compat_files())
    (manifest,) = spec.manifests
    assert manifest.service == "tg_bot"
    (consumed,) = manifest.consumes
    assert (consumed.service, consumed.domain, consumed.operations) == (
        "backend",
        "users",
        ("create_user", "get_user"),
    )


def test_the_plugin_may_load_a_subset_of_files() -> None:
    files = _compat_files()
    subset = {path: files[path] for path in (MODELS, EVENTS, "backend/spec/debug.yaml")}
    spec = load(subset)
    assert [domain.name for domain in spec.domains] == ["debug"]
    assert spec.manifests == ()


# ---------------------------------------------------------------------------- semantics


NESTED_MODELS = _yaml("""
    models:
      Address:
        fields:
          city: string
          zip:
            type: string
            min_length: 5
            max_length: 5
      Person:
        description: somebody
        fields:
          id:
            type: uuid
            readonly: true
          home: Address
          past: list[Address]
          best_friend:
            type: Person
            optional: true
          friends: list[Person]
          scores: dict[string,list[int]]
          grid:
            type: list[dict[string,list[int]]]
          nickname:
            type:
              type: optional
              of: string
          labels:
            type:
              type: dict
              key: int
              value: {type: list, of: string}
          role:
            type:
              type: enum
              values: [admin, member]
              default: member
          level:
            type: float
            ge: 0
            lt: 10.5
            default: 1
        variants:
          Create:
            exclude: [past]
          Update:
            optional: [home, role]
          Summary:
            exclude: [past, friends, scores, grid, labels]
    """)


def test_nested_types_and_model_references_resolve() -> None:
    spec = load({MODELS: NESTED_MODELS})
    person = _fields(spec, "Person")
    assert person["home"].type == ModelType("Address")
    assert person["past"].type == ListType(ModelType("Address"))
    assert person["scores"].type == DictType(ScalarType("string"), ListType(ScalarType("int")))
    assert isinstance(person["grid"].type, ListType)
    assert isinstance(person["grid"].type.of, DictType)
    assert person["nickname"].type == OptionalType(ScalarType("string"))
    assert isinstance(person["labels"].type, DictType)
    assert person["labels"].type.key == ScalarType("int")
    assert isinstance(person["role"].type, EnumType)
    assert person["role"].type.values == ("admin", "member") and not person["role"].required
    assert person["level"].constraints == (("ge", 0), ("lt", 10.5)) and person["level"].default == 1
    assert _fields(spec, "Address")["zip"].constraints == (("min_length", 5), ("max_length", 5))


def test_variants_drop_readonly_exclude_and_make_optional() -> None:
    spec = load({MODELS: NESTED_MODELS})
    assert "id" not in _fields(spec, "PersonCreate") and "past" not in _fields(spec, "PersonCreate")
    update = _fields(spec, "PersonUpdate")
    assert "id" not in update and not update["home"].required and update["past"].required
    summary = _fields(spec, "PersonSummary")
    assert list(summary) == [
        "id",
        "home",
        "best_friend",
        "nickname",
        "role",
        "level",
    ]  # only Create/Update drop readonly
    assert (
        spec.schema("PersonSummary").variant == "Summary"
        and spec.schema("PersonSummary").model == "Person"
    )
    assert [model.name for model in spec.models] == ["Address", "Person"]


EVENTS_YAML = _yaml("""
    events:
      person_created:
        message: Person
      person_seen:
        message: PersonSummary
        subscribe: true
        publish: false
    """)

DOMAIN_YAML = _yaml("""
    description: people and their friends
    operations:
      list_people:
        output: list[PersonSummary]
        params:
          - name: limit
            type: int
            default: 20
            ge: 1
          - name: cursor
            required: false
          - city
          - name: role
            type:
              type: enum
              values: [admin, member]
        rest: {method: get}
      create_person:
        input: PersonCreate
        output: Person
        rest: {method: POST}
        events:
          publish_on_success: person_created
      patch_person:
        input: PersonUpdate
        output: Person
        params: [person_id]
        rest: {method: patch, path: "/{person_id}"}
      remove_person:
        params:
          - name: person_id
            source: path
            type: uuid
        rest: {method: DELETE, path: "/{person_id}"}
      on_seen:
        input: PersonSummary
        events:
          subscribe: person_seen
    """)


def test_domain_defaults_and_param_sources() -> None:
    spec = load(
        {MODELS: NESTED_MODELS, EVENTS: EVENTS_YAML, "src/python/crm/spec/people.yaml": DOMAIN_YAML}
    )
    assert spec.event("person_created").publish and not spec.event("person_created").subscribe
    people = spec.domain("crm", "people")
    assert (people.prefix, people.tags) == ("/people", ("people",))
    operations = {operation.name: operation for operation in people.operations}
    listing = operations["list_people"]
    assert listing.output.is_list and listing.output.schema == "PersonSummary"
    assert (rest_of(listing).method, rest_of(listing).path, rest_of(listing).status) == (
        "GET",
        "",
        200,
    )
    params = {param.name: param for param in listing.params}
    assert {name: (param.source, param.required) for name, param in params.items()} == {
        "limit": ("query", False),
        "cursor": ("query", False),
        "city": ("query", True),
        "role": ("query", True),
    }
    assert params["limit"].default == 20 and params["cursor"].default is MISSING
    assert params["city"].type == ScalarType("string")
    assert rest_of(operations["create_person"]).status == 201
    assert operations["create_person"].events.publish_on_success == "person_created"
    patch = operations["patch_person"]
    assert (rest_of(patch).method, rest_of(patch).status, patch.params[0].source) == (
        "PATCH",
        200,
        "path",
    )
    assert rest_of(operations["remove_person"]).status == 204
    assert (
        operations["on_seen"].rest is None
        and operations["on_seen"].events.subscribe == "person_seen"
    )


def test_an_empty_operations_list_consumes_every_rest_operation() -> None:
    files = {
        MODELS: NESTED_MODELS,
        EVENTS: EVENTS_YAML,
        "crm/spec/people.yaml": DOMAIN_YAML,
        "web/spec/manifest.yaml": "consumes:\n  - service: crm\n    domain: people\n",
        "cli/spec/manifest.yaml": "consumes: []\n",
    }
    spec = load(files)
    manifests = {manifest.service: manifest for manifest in spec.manifests}
    assert manifests["cli"].consumes == ()
    (consumed,) = manifests["web"].consumes
    assert consumed.operations == ("list_people", "create_person", "patch_person", "remove_person")


def test_a_given_prefix_and_tags_are_kept() -> None:
    domain = "config:\n  rest:\n    prefix: ''\n    tags: [a, b]\noperations: {}\n"
    spec = load({"backend/spec/root.yaml": domain})
    assert (spec.domains[0].prefix, spec.domains[0].tags) == ("", ("a", "b"))


def test_python_scalar_names_are_aliases_as_in_the_template() -> None:
    spec = load(
        {
            MODELS: _yaml("""
                models:
                  Note:
                    fields:
                      text: str
                      count: {type: int}
                """),
            "backend/spec/notes.yaml": _yaml("""
                domain: notes
                operations:
                  find_notes:
                    output: list[Note]
                    params:
                      - {name: text, type: str}
                      - {name: exact, type: bool, default: false}
                    rest: {method: GET}
                """),
        }
    )
    assert _fields(spec, "Note")["text"].type == ScalarType("string")
    text, exact = spec.domain("backend", "notes").operations[0].params
    assert (text.type, exact.type) == (ScalarType("string"), ScalarType("bool"))


def test_errors_from_every_file_are_collected_and_sorted() -> None:
    files = {
        "b/spec/x.yaml": "operations: [\n",
        "a/spec/y.yaml": "- 1\n",
        MODELS: "models:\n  m: {}\n",
    }
    with pytest.raises(SpecErrors) as raised:
        load(files)
    assert [(error.file, error.line) for error in raised.value.errors] == [
        ("a/spec/y.yaml", 1),
        ("b/spec/x.yaml", 2),
        (MODELS, 2),
    ]
