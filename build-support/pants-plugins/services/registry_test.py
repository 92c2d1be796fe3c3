from __future__ import annotations

from textwrap import dedent

import pytest

from services.registry import SERVICE_TYPES, load_registry
from specgen.errors import SpecErrors

VALID = dedent("""\
    services:
      - name: backend
        type: python-fastapi
        description: Users API.
        depends_on: [postgres, redis]
        replicas: 3
        migrate: [/app/bin/python, -m, backend.alembic_cli, upgrade, head]
      - name: tg_bot
        type: python-faststream
        description: Telegram bot.
        depends_on: [backend]
        profiles: [bot]
      - name: cron
        type: default
        description: Periodic jobs.
    """)


def errors_of(text: str) -> list[str]:
    with pytest.raises(SpecErrors) as raised:
        load_registry(text)
    return str(raised.value).splitlines()


def test_a_valid_registry() -> None:
    backend, tg_bot, cron = load_registry(VALID).services
    assert (backend.type, backend.port, backend.replicas) == (
        SERVICE_TYPES["python-fastapi"],
        8000,
        3,
    )
    assert backend.migrate[-2:] == ("upgrade", "head")
    assert (tg_bot.depends_on, tg_bot.profiles, tg_bot.serves_http) == (
        ("backend",),
        ("bot",),
        False,
    )
    assert (cron.port, cron.replicas, cron.depends_on) == (None, 1, ())


def test_every_problem_names_file_line_and_key() -> None:
    text = dedent("""\
        services:
          - name: Orders-API
            type: fastapi
            description: x
            colour: red
          - name: mailer
            type: python-faststream
            description: Mails.
            depends_on: [backedn]
            port: 8080
          - name: mailer
            type: default
            description: Again.
        """)
    assert errors_of(text) == [
        "services.yml:2: services[0].name: service name 'Orders-API' is not a lower snake case "
        "Python identifier (hint: write 'orders_api')",
        "services.yml:3: services[0].type: unknown service type 'fastapi' (hint: did you mean 'python-fastapi'?)",
        "services.yml:5: services[0].colour: unknown key 'colour'",
        "services.yml:9: services[1].depends_on[0]: unknown service 'backedn' (hint: known services: mailer, "
        "postgres, redis)",
        "services.yml:10: services[1].port: a python-faststream service serves no HTTP and has no port",
        "services.yml:11: services[2].name: duplicate service 'mailer' (hint: already defined at services[1])",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "services.yml:1: the file is empty"),
        ("services: [\n", "services.yml:2: invalid YAML"),
        (
            "service: []\n",
            "services.yml:1: service: unknown key 'service' (hint: did you mean 'services'?)",
        ),
        ("services: {}\n", "services.yml:1: services: expected a list, got a mapping"),
        (
            "services:\n  - {name: a, type: default, description: d, depends_on: [a]}\n",
            "services.yml:2: services[0].depends_on[0]: service 'a' depends on itself",
        ),
        (
            "services:\n  - {name: a, type: default}\n",
            "services.yml:2: services[0]: missing key 'description'",
        ),
        (
            "services:\n  - {name: class, type: default, description: d}\n",
            "services.yml:2: services[0].name: service name 'class' is not a lower snake case Python identifier",
        ),
        (
            "services:\n  - {name: a, type: default, description: d, secrets: [API-KEY]}\n",
            "services.yml:2: services[0].secrets[0]: secret 'API-KEY' must be a setting's name in "
            "lower snake case",
        ),
        (
            "services:\n  - {name: a, type: default, description: d, env: [api_key]}\n",
            "services.yml:2: services[0].env[0]: 'api_key' is not an environment variable's name",
        ),
        (
            "services:\n  - {name: a, type: default, description: d, env: [A_B, A_B]}\n",
            "services.yml:2: services[0].env[1]: duplicate variable 'A_B'",
        ),
        (
            "services:\n  - {name: a, type: default, description: d, secrets: [api_key],\n"
            "     env: [API_KEY]}\n",
            "services.yml:3: services[0].env[0]: 'API_KEY' is a secret of this service "
            "(secrets: api_key) (hint: a secret never travels as a plain variable",
        ),
        (
            "services:\n  - {name: a, type: python-fastapi, description: d, depends_on: [redis],\n"
            "     env: [REDIS_URL, A_PORT, PROFILE, METRICS_PORT]}\n",
            "services.yml:3: services[0].env[0]: 'REDIS_URL' is set by the deployment itself "
            "(hint: the deployments set REDIS_URL, A_PORT, A_ROOT_PATH, PROFILE, METRICS_PORT: "
            "remove it from env)",
        ),
        (
            "services:\n  - {name: a, type: default, description: d, env: API_KEY}\n",
            "services.yml:2: services[0].env: expected a list, got a string",
        ),
    ],
)
def test_malformed_registries(text: str, expected: str) -> None:
    assert any(error.startswith(expected) for error in errors_of(text))


CONSOLE = "  - {name: console, type: typescript-web, description: Console.}\n"


def test_a_services_own_variables() -> None:
    [service] = load_registry(
        "services:\n  - {name: a, type: default, description: d, env: [A_TIMEOUT, EVENTS_X]}\n"
    ).services
    assert service.env == ("A_TIMEOUT", "EVENTS_X")


def test_a_web_front_end() -> None:
    console = load_registry(VALID + CONSOLE).services[-1]
    assert (console.port, console.folder) == (8080, "src/typescript/console")


def test_one_web_front_end_per_site() -> None:
    shop = "  - {name: shop, type: typescript-web, description: Shop.}\n"
    assert errors_of(VALID + CONSOLE + shop) == [
        "services.yml:17: services[4].type: only one service can be served at the site's root /, "
        "and 'console' is (hint: a typescript-web service is served at /; keep one per site)"
    ]
