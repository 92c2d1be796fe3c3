"""Proves that `--changed-since --changed-dependents=transitive` selects exactly what a change affects.

On a scratch copy of the repository (scratch_repo.py), each case appends a comment to one file and
compares `pants list` of the changed targets and their transitive dependents with the set written
below. The sets are explicit on purpose: a new target, file or import that changes what a change
selects has to be looked at and written down here.

    ./pants run build-support/ci/change_impact_check.py            (or: python3 <this file>)
    ./pants run build-support/ci/change_impact_check.py -- --show  (print the selections only)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass

from scratch_repo import copy_repo, git, pants, scratch_dir

BACKEND = "src/python/backend"
TG_BOT = "src/python/tg_bot"

# The system test starts both services (BUILD: explicit dependencies on each main.py), so every
# change to a service's runtime code selects it too.
E2E = {"src/python/e2e:tests", "src/python/e2e/system_test.py:tests"}

# A service as a deployable: the BUILD targets that pull in every module of it (the test
# generators own the tests; pexes and the image own the entry point and everything it imports).
BACKEND_DEPLOYABLES = {f"{BACKEND}:{name}" for name in ("backend", "tests", "test_utils", "pex", "alembic", "pex-deps", "pex-srcs", "image")}
TG_BOT_DEPLOYABLES = {f"{TG_BOT}:{name}" for name in ("tg_bot", "tests", "pex", "pex-deps", "pex-srcs", "image")}


@dataclass(frozen=True)
class Case:
    name: str
    touch: str  # the file that gets one more comment line
    expected: frozenset[str]  # `pants list` addresses


def _files(directory: str, *names: str) -> set[str]:
    return {f"{directory}/{name}" for name in names}


CASES = (
    Case(
        "one service's code selects only that service",
        f"{TG_BOT}/telegram.py",
        frozenset(
            {
                *_files(TG_BOT, "telegram.py", "updates.py", "main.py", "fake_telegram.py"),
                *_files(TG_BOT, "telegram_test.py:tests", "updates_test.py:tests", "main_test.py:tests"),
                *TG_BOT_DEPLOYABLES,
                *E2E,
            }
        ),
    ),
    Case(
        "a domain of one service selects only that service (tg_bot consumes users, not debug)",
        f"{BACKEND}/spec/debug.yaml",
        frozenset(),
    ),
    Case(
        "a domain consumed by another service selects that service's client and its importers",
        f"{BACKEND}/spec/users.yaml",
        frozenset(),
    ),
    Case(
        "a shared model selects every service that imports the models",
        "shared/spec/models.yaml",
        frozenset(),
    ),
    Case(
        "a template of the generator selects everything generated",
        "build-support/pants-plugins/specgen/templates/models.py.j2",
        frozenset(),
    ),
)


def selection(root, touch: str) -> set[str]:
    path = root / touch
    original = path.read_text()
    path.write_text(original + ("{# touched #}\n" if touch.endswith(".j2") else "# touched\n"))
    try:
        output = pants(root, "--changed-since=HEAD", "--changed-dependents=transitive", "list")
    finally:
        path.write_text(original)
    return set(output.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each selection instead of checking it")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()

    root = copy_repo(scratch_dir("change-impact-"))
    failures = 0
    try:
        for case in CASES:
            selected = selection(root, case.touch)
            if git(root, "status", "--porcelain"):
                raise RuntimeError("a case left the scratch copy modified")
            if args.show:
                print(f"## {case.touch}: {len(selected)} targets")
                print("\n".join(sorted(selected)))
                continue
            missing, unexpected = case.expected - selected, selected - case.expected
            print(f"{'FAIL' if missing or unexpected else 'ok  '} {case.name} ({case.touch}: {len(selected)} targets)")
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
