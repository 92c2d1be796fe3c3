"""Proves that `--changed-since --changed-dependents=transitive` selects exactly what a change affects.

On a scratch copy of the repository (scratch_repo.py), each case appends a comment to one file and
compares `pants list` of the changed targets and their transitive dependents with the set written
below. The sets are explicit on purpose: a new target, file or import that changes what a change
selects has to be looked at and written down here.

    python3 build-support/ci/change_impact_check.py [--show] [--keep]   (in the repository)
    (`./pants run build-support/ci/change_impact_check.py` once build-support/ci is a source root)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass

from scratch_repo import copy_repo, git, pants, scratch_dir

BACKEND = "src/python/backend"
TG_BOT = "src/python/tg_bot"
CONSOLE = "src/typescript/console"


def _in(directory: str, *names: str) -> set[str]:
    return {
        f"{directory}{name}" if name.startswith((":", "#")) else f"{directory}/{name}"
        for name in names
    }


# Both services together: the system test (BUILD: explicit dependencies on each main.py) and the
# all-in-one pex of src/python/stack. Every change to either service's runtime code selects them.
BOTH_SERVICES = {
    "src/python/e2e:tests",
    "src/python/e2e/system_test.py:tests",
    "src/python/e2e/observability_test.py:tests",
    "src/python/e2e/shared_stack_test.py:tests",
    "src/python/stack:pex",
}

# backend's HTTP app: the modules that import its generated routers (api/deps.py, app.py), what
# imports them (main.py, the benchmark that runs it, the test utilities that run main.py as a
# process, and conftest.py, whose `backend` fixture is the app), the tests that import the app or
# run it (the migrations' tests too, through conftest.py), and the BUILD targets of all of these.
# Not its controllers or migrations, which use generated.models or its tables but no router.
BACKEND_APP = {
    *_in(BACKEND, "api/deps.py", "app.py", "main.py", "bench/bench_api.py"),
    *_in(
        BACKEND,
        "forked_backend.py:test_utils",
        "served_backend.py:test_utils",
        "conftest.py:test_utils",
        "migrations/migrations_test.py:tests",
        "migrations:tests",
    ),
    *_in(
        BACKEND,
        *(
            f"{test}_test.py:tests"
            for test in (
                "app",
                "app_role",
                "auth",
                "concurrency",
                "database_outage",
                "debug_api",
                "fuzz",
                "hostile_requests",
                "idempotency",
                "idempotency_kill",
                "outbox",
                "outbox_kill",
                "redis_hung",
                "redis_outage",
                "settings",
                "users_api",
            )
        ),
    ),
    *_in(
        BACKEND,
        "api:api",
        "bench:bench",
        "bench:bench_api",
        ":backend",
        ":tests",
        ":test_utils",
        ":pex",
        ":pex-deps",
        ":pex-srcs",
        ":image",
    ),
}

# backend's tables, generated from the users domain's `storage:`: tables.py, which gathers them,
# the controller and what it belongs to, the migrations and what runs them (the Alembic command,
# the pre-start job, the tests' fixtures), and the benchmark's hand-written app on the same tables.
BACKEND_STORAGE = {
    *_in(BACKEND, "tables.py", "controllers/users.py", "controllers:controllers"),
    *_in(BACKEND, "alembic_cli.py", "prestart.py", ":alembic", "conftest.py:test_utils"),
    *_in(
        BACKEND,
        "migrations/__init__.py",
        "migrations/env.py",
        "migrations/migrations_test.py:tests",
        "migrations/versions/0001_create_users.py:../versions",
        "migrations/versions/0002_create_event_outbox.py:../versions",
        "migrations/versions/0003_event_outbox_trace_context.py:../versions",
        "migrations/versions/0004_create_idempotency_keys.py:../versions",
        "migrations:migrations",
        "migrations:tests",
        "migrations:versions",
    ),
    *_in(BACKEND, "bench/handwritten_app.py", "bench/same_work.py", "bench/serve.py"),
}

# tg_bot's deployables: the targets that contain main.py (pexes, image), and its tests' generator;
# and the Swarm acceptance test, which imports tg_bot's notifications (and its pexes).
TG_BOT_DEPLOYABLES = {
    *_in(
        TG_BOT,
        "main.py",
        "main_test.py:tests",
        ":tests",
        ":pex",
        ":pex-deps",
        ":pex-srcs",
        ":image",
    ),
    *_in("src/python/deploy", "acceptance.py", ":deploy", ":swarm-acceptance"),
}

# NB: Pants lists a changed file's own target but not that target's generator (the BUILD target
# owning it): `spec:spec` is absent when a spec of it changes, present when it is only a dependent.


# The web console (TypeScript). Its browser test runs the backend pex (through packaged_files), so
# a change to the backend's runtime selects that test and no other console target.
CONSOLE_BROWSER_TEST = _in(CONSOLE, "e2e:browser", "e2e/console.test.ts:browser")
BACKEND_PEX_IN_BROWSER_TEST = {*_in(CONSOLE, "e2e:backend-pex"), *CONSOLE_BROWSER_TEST}
# What depends on all of the console's code: its tests, package, image and the browser test.
# TypeScript imports are not inferred (docs/typescript.md), so one file does not select another.
CONSOLE_DEPENDENTS = {
    *_in(
        CONSOLE,
        "src/client.test.ts:../tests",
        "src/typecheck.test.ts:../tests",
        "src/users.test.ts:../tests",
        ":tests",
    ),
    *_in(CONSOLE, ":console", "#__specfirst/console", "#build", ":image"),
    *CONSOLE_BROWSER_TEST,
}
# Everything of the console that uses the generated client (the models, the events and the
# backend users domain its manifest consumes).
CONSOLE_GENERATED = {
    *_in(CONSOLE, "spec/manifest.yaml", "spec:spec"),
    *_in(
        CONSOLE,
        "src/App.tsx:../src",
        "src/api.ts:../src",
        "src/main.tsx:../src",
        "src/session.ts:../src",
        "src/users.ts:../src",
        "vite.config.ts:src",
        ":src",
    ),
    *CONSOLE_DEPENDENTS,
}

# A change to the shared models: every other spec needs them, so every generated module changes,
# and with them everything above; then the direct importers of generated.models.
EVERYTHING_GENERATED = {
    "shared/spec/models.yaml",
    "shared/spec/events.yaml",
    *_in(BACKEND, "spec/debug.yaml", "spec/users.yaml", "spec:spec"),
    *BACKEND_APP,
    *BACKEND_STORAGE,
    *_in(BACKEND, "controllers/debug.py"),
    *_in(
        TG_BOT,
        "spec/manifest.yaml",
        "spec/notifications.yaml",
        "spec:spec",
        ":tg_bot",
    ),
    *_in(TG_BOT, "notifications.py", "notifications_test.py:tests"),
    *_in(TG_BOT, "updates.py", "updates_test.py:tests"),
    *TG_BOT_DEPLOYABLES,
    *BOTH_SERVICES,
    *CONSOLE_GENERATED,
    *BACKEND_PEX_IN_BROWSER_TEST,
    # Not servicekit, tg_bot's Telegram API client and settings: none of them imports generated
    # code.
}


@dataclass(frozen=True)
class Case:
    name: str
    touch: str  # the file that gets one more comment line
    expected: frozenset[str]  # `pants list` addresses
    unchecked_prefix: str | None = None  # addresses not compared


CASES = (
    Case(
        "one service's code selects only that service",
        f"{TG_BOT}/telegram.py",
        frozenset(
            {
                # telegram.py and its importers (notifications, updates, main), their tests.
                *_in(TG_BOT, "telegram.py", "notifications.py", "updates.py"),
                *_in(
                    TG_BOT,
                    "telegram_test.py:tests",
                    "notifications_test.py:tests",
                    "updates_test.py:tests",
                ),
                *TG_BOT_DEPLOYABLES,
                *BOTH_SERVICES,
            }
        ),
    ),
    Case(
        "a domain of one service selects only that service (tg_bot and the console consume "
        "users, not debug; the console's browser test runs the backend)",
        f"{BACKEND}/spec/debug.yaml",
        frozenset(
            {
                f"{BACKEND}/spec/debug.yaml",
                *BACKEND_APP,
                *BOTH_SERVICES,
                *BACKEND_PEX_IN_BROWSER_TEST,
            }
        ),
    ),
    Case(
        "the console's code selects only the console",
        f"{CONSOLE}/src/users.ts",
        frozenset({f"{CONSOLE}/src/users.ts:../src", *CONSOLE_DEPENDENTS}),
    ),
    Case(
        "a domain consumed by another service selects that service's client and its importers",
        f"{BACKEND}/spec/users.yaml",
        frozenset(
            {
                f"{BACKEND}/spec/users.yaml",
                *BACKEND_APP,
                *BACKEND_STORAGE,
                # tg_bot's manifest consumes backend.users: generated.tg_bot.clients, imported by
                # notifications.py and main.py, and the tests importing either.
                *_in(
                    TG_BOT,
                    "spec/manifest.yaml",
                    "spec:spec",
                    "notifications.py",
                    "notifications_test.py:tests",
                    ":tg_bot",
                ),
                *TG_BOT_DEPLOYABLES,
                *BOTH_SERVICES,
                # the console's manifest consumes backend.users too: its TypeScript client.
                *CONSOLE_GENERATED,
                *BACKEND_PEX_IN_BROWSER_TEST,
            }
        ),
    ),
    Case(
        "a shared model selects every service that imports the models",
        "shared/spec/models.yaml",
        frozenset(EVERYTHING_GENERATED),
    ),
    Case(
        "a template of the generator selects everything generated",
        "build-support/pants-plugins/specgen/templates/models.py.j2",
        # As for the models, plus the models' spec target, now a dependent (of the generator), the
        # spec_generator target that owns the template, and the codegen benches that run it.
        frozenset(
            {
                *EVERYTHING_GENERATED,
                "shared/spec:spec",
                "build-support/pants-plugins:generator",
                "build-support/ci/bench_export_codegen.py",
                "build-support/ci/bench_inference.py",
                "build-support/ci:ci",
            }
        ),
        # The plugin's own modules that read templates are selected too; its tests cover them.
        unchecked_prefix="build-support/pants-plugins/",
    ),
)


def selection(root, touch: str) -> set[str]:
    path = root / touch
    original = path.read_text()
    comment = {".j2": "{# touched #}", ".ts": "// touched", ".tsx": "// touched"}
    path.write_text(original + comment.get(path.suffix, "# touched") + "\n")
    try:
        output = pants(root, "--changed-since=HEAD", "--changed-dependents=transitive", "list")
    finally:
        path.write_text(original)
    return set(output.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--show",
        action="store_true",
        help="print each selection instead of checking it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()

    root = copy_repo(scratch_dir("change-impact-"))
    failures = 0
    try:
        for case in CASES:
            selected = selection(root, case.touch)
            if case.unchecked_prefix:
                selected = {a for a in selected if not a.startswith(case.unchecked_prefix)}
            if git(root, "status", "--porcelain"):
                raise RuntimeError("a case left the scratch copy modified")
            if args.show:
                print(f"## {case.touch}: {len(selected)} targets")
                print("\n".join(sorted(selected)))
                continue
            missing, unexpected = case.expected - selected, selected - case.expected
            print(
                f"{'FAIL' if missing or unexpected else 'ok  '} {case.name} ({case.touch}: {len(selected)} targets)"
            )
            for label, addresses in (("missing", missing), ("unexpected", unexpected)):
                for address in sorted(addresses):
                    print(f"       {label}: {address}")
            failures += bool(missing or unexpected)
    finally:
        if args.keep:
            print(f"scratch copy kept at {root}")
        else:
            shutil.rmtree(root)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
