"""The plugin inside a real Pants engine (RuleRunner): codegen, dependency inference, tailor,
documents, errors, and the hand-written-spec-code lint."""

from __future__ import annotations

import logging
from textwrap import dedent

import pytest
from pants.backend.python import target_types_rules
from pants.backend.python.dependency_inference import rules as python_dependency_inference
from pants.backend.python.target_types import (
    PythonRequirementTarget,
    PythonSourcesGeneratorTarget,
    PythonSourceTarget,
)
from pants.core.goals.tailor import AllOwnedSources, PutativeTarget, PutativeTargets
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import QueryRule
from pants.engine.target import (
    Dependencies,
    DependenciesRequest,
    GeneratedSources,
    HydratedSources,
    HydrateSourcesRequest,
)
from pants.testutil.rule_runner import RuleRunner, engine_error

from pants_specgen import register
from pants_specgen.documents import GenerateDocumentsFromSpecRequest
from pants_specgen.python.rules import GeneratePythonFromSpecRequest
from pants_specgen.spec_ownership_lint import handwritten_spec_code
from pants_specgen.tailor import PutativeSpecTargetsRequest
from pants_specgen.target_types import SpecSourceField
from pants_specgen.typescript.rules import GenerateTypeScriptFromSpecRequest
from specgen import SpecErrors

MODELS = dedent("""\
    models:
      User:
        fields:
          id: {type: int, readonly: true}
          name: string
        variants:
          Create: {}
          Read: {}
    """)
EVENTS = "events:\n  user_registered: {message: UserRead, publish: true}\n"
USERS = dedent("""\
    operations:
      create_user:
        input: UserCreate
        output: UserRead
        rest: {method: POST, path: ""}
        events: {publish_on_success: user_registered}
    """)
ORDERS = (
    'operations:\n  list_orders:\n    output: list[UserRead]\n    rest: {method: GET, path: ""}\n'
)
MANIFEST = "consumes:\n  - service: backend\n    domain: users\n"


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = RuleRunner(
        rules=[
            *register.rules(),
            *python_dependency_inference.rules(),
            *target_types_rules.rules(),
            QueryRule(GeneratedSources, [GeneratePythonFromSpecRequest]),
            QueryRule(GeneratedSources, [GenerateDocumentsFromSpecRequest]),
            QueryRule(GeneratedSources, [GenerateTypeScriptFromSpecRequest]),
            QueryRule(HydratedSources, [HydrateSourcesRequest]),
            QueryRule(DigestContents, [Digest]),
            QueryRule(Addresses, [DependenciesRequest]),
            QueryRule(PutativeTargets, [PutativeSpecTargetsRequest, AllOwnedSources]),
        ],
        target_types=[
            *register.target_types(),
            PythonSourcesGeneratorTarget,
            PythonSourceTarget,
            PythonRequirementTarget,
        ],
    )
    runner.set_options(
        ["--source-root-patterns=['/src/python']", "--python-infer-use-rust-parser"],
        env_inherit={"PATH"},
    )
    runner.write_files(
        {
            "BUILD": 'python_requirement(name="fastapi", requirements=["fastapi"])\n'
            'python_requirement(name="pydantic", requirements=["pydantic"])\n'
            'spec_generator(name="generator", sources=["generator.py"])\n',
            "generator.py": "",
            "shared/spec/BUILD": "spec_sources()",
            "shared/spec/models.yaml": MODELS,
            "shared/spec/events.yaml": EVENTS,
            "src/python/backend/spec/BUILD": "spec_sources()",
            "src/python/backend/spec/users.yaml": USERS,
            "src/python/shop/spec/BUILD": "spec_sources()",
            "src/python/shop/spec/orders.yaml": ORDERS,
            "src/python/tg_bot/spec/BUILD": "spec_sources()",
            "src/python/tg_bot/spec/manifest.yaml": MANIFEST,
            "src/python/servicekit/BUILD": "python_sources()",
            "src/python/servicekit/events.py": "",
            "src/python/servicekit/http.py": "",
            "src/python/servicekit/strict_json.py": "",
            "src/python/backend/BUILD": "python_sources()",
            "src/python/backend/app.py": "from generated.backend.users import create_router\n",
        }
    )
    return runner


def spec(path: str) -> Address:
    directory, name = path.rsplit("/", 1)
    return Address(directory, relative_file_path=name)


def generate(
    rule_runner: RuleRunner, path: str, request_type: type = GeneratePythonFromSpecRequest
) -> dict[str, str]:
    target = rule_runner.get_target(spec(path))
    sources = rule_runner.request(HydratedSources, [HydrateSourcesRequest(target[SpecSourceField])])
    result = rule_runner.request(GeneratedSources, [request_type(sources.snapshot, target)])
    return {
        f.path: f.content.decode()
        for f in rule_runner.request(DigestContents, [result.snapshot.digest])
    }


def dependencies(rule_runner: RuleRunner, address: Address) -> set[str]:
    target = rule_runner.get_target(address)
    deps = rule_runner.request(Addresses, [DependenciesRequest(target[Dependencies])])
    return {str(addr) for addr in deps}


def test_generates_python_under_the_source_root(rule_runner: RuleRunner) -> None:
    generated = generate(rule_runner, "src/python/backend/spec/users.yaml")
    assert list(generated) == ["src/python/generated/backend/users.py"]
    assert "def create_router(" in generated["src/python/generated/backend/users.py"]
    assert list(generate(rule_runner, "shared/spec/models.yaml")) == [
        "src/python/generated/models.py"
    ]


def test_python_importing_generated_code_depends_on_its_spec(rule_runner: RuleRunner) -> None:
    assert dependencies(
        rule_runner, Address("src/python/backend", relative_file_path="app.py")
    ) == {"src/python/backend/spec/users.yaml"}


def test_spec_depends_on_specs_it_needs_generator_and_generated_imports(
    rule_runner: RuleRunner,
) -> None:
    assert dependencies(rule_runner, spec("src/python/backend/spec/users.yaml")) == {
        "//:generator",
        "//:fastapi",
        "//:pydantic",
        "shared/spec/models.yaml",
        "shared/spec/events.yaml",
        "src/python/servicekit/events.py",
        "src/python/servicekit/strict_json.py",
    }
    assert dependencies(rule_runner, spec("shared/spec/models.yaml")) == {
        "//:generator",
        "//:pydantic",
    }
    assert dependencies(rule_runner, spec("src/python/tg_bot/spec/manifest.yaml")) == {
        "//:generator",
        "//:pydantic",
        "shared/spec/models.yaml",
        "shared/spec/events.yaml",
        "src/python/backend/spec/users.yaml",
        "src/python/servicekit/http.py",
    }


def test_a_domain_spec_does_not_depend_on_other_services(rule_runner: RuleRunner) -> None:
    assert not any(
        "backend" in dep
        for dep in dependencies(rule_runner, spec("src/python/shop/spec/orders.yaml"))
    )


def test_ambiguous_owners_of_a_runtime_import_warn_and_explicit_dependencies_choose(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # A second source root with its own `servicekit.events`: two targets own the module that code
    # generated from events.yaml imports.
    rule_runner.set_options(
        ["--source-root-patterns=['/src/python', '/vendor']", "--python-infer-use-rust-parser"],
        env_inherit={"PATH"},
    )
    rule_runner.write_files(
        {"vendor/servicekit/BUILD": "python_sources()", "vendor/servicekit/events.py": ""}
    )
    candidates = ["src/python/servicekit/events.py", "vendor/servicekit/events.py"]
    assert dependencies(rule_runner, spec("shared/spec/events.yaml")) == {
        "//:generator",
        "shared/spec/models.yaml",
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "imports `servicekit.events`" in warnings[0]
    assert str(candidates) in warnings[0]

    # an explicit dependency on one owner, or ignoring the other, picks it
    for explicit in ["vendor/servicekit/events.py", "!src/python/servicekit/events.py"]:
        caplog.clear()
        rule_runner.write_files({"shared/spec/BUILD": f"spec_sources(dependencies=[{explicit!r}])"})
        deps = dependencies(rule_runner, spec("shared/spec/events.yaml"))
        assert set(candidates) & deps == {"vendor/servicekit/events.py"}, explicit
        assert "ambiguous" not in caplog.text


def test_inference_reads_the_spec_without_loading_or_generating(rule_runner: RuleRunner) -> None:
    # The manifest names a domain among entries it gets wrong, and the domain has a type error:
    # generating either fails, yet their dependencies are found (the failure comes from the build
    # that generates them, with its file and line).
    rule_runner.write_files(
        {
            "src/python/tg_bot/spec/manifest.yaml": MANIFEST + "  - {service: [shop]}\n  - oops\n",
            "src/python/backend/spec/users.yaml": USERS.replace("UserCreate", "UserCreat"),
        }
    )
    assert "src/python/backend/spec/users.yaml" in dependencies(
        rule_runner, spec("src/python/tg_bot/spec/manifest.yaml")
    )
    assert "//:fastapi" in dependencies(rule_runner, spec("src/python/backend/spec/users.yaml"))
    with engine_error(
        SpecErrors,
        contains="src/python/backend/spec/users.yaml:3: operations.create_user.input: unknown schema",
    ):
        generate(rule_runner, "src/python/backend/spec/users.yaml")


def test_invalid_spec_fails_with_file_line_and_key(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {"shared/spec/models.yaml": MODELS.replace("name: string", "name: {type: integer}")}
    )
    with engine_error(
        SpecErrors,
        contains="shared/spec/models.yaml:5: models.User.fields.name.type: unknown type 'integer' (hint: did you mean 'int'?)",
    ):
        generate(rule_runner, "shared/spec/models.yaml")


def test_a_spec_warning_is_logged_or_fatal_when_configured(
    rule_runner: RuleRunner, caplog: pytest.LogCaptureFixture
) -> None:
    rule_runner.write_files(
        {"shared/spec/events.yaml": EVENTS.replace("publish: true", "publish: false")}
    )
    warning = (
        "src/python/backend/spec/users.yaml:6: operations.create_user.events.publish_on_success:"
        " event 'user_registered' says 'publish: false'"
    )
    assert (
        "def create_router("
        in generate(rule_runner, "src/python/backend/spec/users.yaml")[
            "src/python/generated/backend/users.py"
        ]
    )
    assert caplog.text.count(warning) == 1
    caplog.clear()  # the load is shared: other outputs of the spec do not warn again ...
    generate(rule_runner, "src/python/backend/spec/users.yaml", GenerateDocumentsFromSpecRequest)
    generate(rule_runner, "src/python/backend/spec/users.yaml", GenerateTypeScriptFromSpecRequest)
    assert warning not in caplog.text
    rule_runner.write_files({"src/python/backend/spec/users.yaml": USERS + "\n"})
    # ... and an output other than Python warns too
    generate(rule_runner, "src/python/backend/spec/users.yaml", GenerateDocumentsFromSpecRequest)
    assert caplog.text.count(warning) == 1
    rule_runner.set_options(
        ["--source-root-patterns=['/src/python']", "--specgen-warnings-as-errors"],
        env_inherit={"PATH"},
    )
    with engine_error(SpecErrors, contains=warning):
        generate(rule_runner, "src/python/backend/spec/users.yaml")


def test_documents_for_api_tooling(rule_runner: RuleRunner) -> None:
    files = generate(
        rule_runner, "src/python/backend/spec/users.yaml", GenerateDocumentsFromSpecRequest
    )
    assert list(files) == ["src/openapi/backend/users.json"]


def test_typescript_for_front_ends(rule_runner: RuleRunner) -> None:
    models = generate(rule_runner, "shared/spec/models.yaml", GenerateTypeScriptFromSpecRequest)
    assert sorted(models) == [
        "src/typescript/generated/http.ts",
        "src/typescript/generated/models.ts",
    ]
    assert "export interface UserCreate" in models["src/typescript/generated/models.ts"]
    clients = generate(
        rule_runner, "src/python/tg_bot/spec/manifest.yaml", GenerateTypeScriptFromSpecRequest
    )
    text = clients["src/typescript/generated/tg_bot/clients.ts"]
    assert "export class BackendUsersClient {" in text
    assert "createUser(body: UserCreate): Promise<UserRead> {" in text
    # a domain has no TypeScript of its own: the manifests that consume it generate its clients
    assert (
        generate(
            rule_runner, "src/python/backend/spec/users.yaml", GenerateTypeScriptFromSpecRequest
        )
        == {}
    )


def test_tailor_adds_spec_sources_to_spec_folders(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {"src/python/billing/spec/invoices.yaml": ORDERS, "src/python/billing/config.yaml": ""}
    )
    putative = rule_runner.request(
        PutativeTargets,
        [
            PutativeSpecTargetsRequest(("src/python/billing/spec", "src/python/billing")),
            AllOwnedSources(),
        ],
    )
    assert putative == PutativeTargets(
        [
            PutativeTarget.for_target_type(
                register.SpecSourcesGeneratorTarget,
                "src/python/billing/spec",
                "spec",
                ["invoices.yaml"],
            )
        ]
    )


def test_lint_reports_hand_written_models_and_routers() -> None:
    source = "from pydantic import BaseModel\nfrom fastapi import APIRouter\n\nclass User(BaseModel):\n    id: int\n\nrouter = APIRouter()\n"
    findings = handwritten_spec_code("svc/api.py", source)
    assert [f.split(":")[1] for f in findings] == ["4", "7"]
    assert "Pydantic model 'User'" in findings[0]
