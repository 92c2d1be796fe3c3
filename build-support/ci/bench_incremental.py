"""What an incremental CI run costs next to a full one, after a one-line change in one service.

On a scratch copy of the repository (scratch_repo.py), with Pants' caches warm:
  full         `lint check test ::`
  incremental  `--changed-since=HEAD --changed-dependents=transitive lint check test`
  service      `lint check test <service>::`, the affected service's own share
Each run first appends a new comment line to one file of the service, so that everything the change
affects is cold and everything else warm, as in CI after a small commit. Prints wall times, test
targets run (and how many of them actually ran rather than came from the cache) and the ratios.
The target: incremental <= service + 15 s of fixed overhead (finding what changed, and what
depends on it, is the only extra work).

    python3 build-support/ci/bench_incremental.py [--touch src/python/backend/settings.py]
    (`./pants run build-support/ci/bench_incremental.py` once build-support/ci is a source root)
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scratch_repo import copy_repo, run_pants, scratch_dir

OVERHEAD_BUDGET_SECONDS = 15.0
CHANGED = ["--changed-since=HEAD", "--changed-dependents=transitive"]
# "✓ src/python/tg_bot/telegram_test.py:tests succeeded in 0.52s (cached locally)."
_TEST_RESULT = re.compile(r"^[✓✕] (\S+) (?:succeeded|failed)\b(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    name: str
    seconds: float
    tests: int
    tests_executed: int  # not served from a cache
    exit_code: int


def timed_run(root: Path, logs: Path, name: str, touch: Path, args: list[str]) -> Run:
    with touch.open("a") as file:
        file.write(f"# bench {name} {time.time_ns()}\n")  # new content: cold for this change
    started = time.monotonic()
    result = run_pants(root, *args)
    seconds = time.monotonic() - started
    (logs / f"{name}.log").write_text(result.stderr)
    results = _TEST_RESULT.findall(result.stderr)
    executed = sum(1 for _, rest in results if "cached" not in rest and "memoized" not in rest)
    return Run(name, seconds, len(results), executed, result.returncode)


def report(runs: list[Run]) -> str:
    full, incremental, service = runs
    lines = [f"{'run':<12} {'wall s':>8} {'tests':>6} {'ran':>5} {'exit':>5}"]
    lines += [
        f"{r.name:<12} {r.seconds:>8.1f} {r.tests:>6} {r.tests_executed:>5} {r.exit_code:>5}"
        for r in runs
    ]
    overhead = incremental.seconds - service.seconds
    lines += [
        "",
        f"incremental / full, time:   {incremental.seconds / full.seconds:.2f}",
        f"incremental / full, tests:  {incremental.tests / max(full.tests, 1):.2f}",
        f"incremental / service, time: {incremental.seconds / service.seconds:.2f}",
        f"overhead over the service's share: {overhead:.1f} s (budget {OVERHEAD_BUDGET_SECONDS:.0f} s): "
        + ("within" if overhead <= OVERHEAD_BUDGET_SECONDS else "OVER"),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touch", default="src/python/tg_bot/telegram.py", help="the file changed")
    parser.add_argument("--goals", default="lint check test", help="the goals of every run")
    parser.add_argument(
        "--logs", type=Path, default=Path("dist/bench-incremental"), help="Pants' output"
    )
    args = parser.parse_args()
    goals = args.goals.split()
    service = str(Path(args.touch).parent)
    args.logs.mkdir(parents=True, exist_ok=True)

    root = copy_repo(scratch_dir("bench-incremental-"))
    touch = root / args.touch
    try:
        run_pants(root, *goals, "::")  # warms every cache for this copy's commit; not measured
        runs = [
            timed_run(root, args.logs, "full", touch, [*goals, "::"]),
            timed_run(root, args.logs, "incremental", touch, [*CHANGED, *goals]),
            timed_run(root, args.logs, "service", touch, [*goals, f"{service}::"]),
        ]
    finally:
        shutil.rmtree(root)
    print(f"goals: {' '.join(goals)}; changed: {args.touch}; Pants' output: {args.logs}/")
    print(report(runs))
    return 1 if any(run.exit_code for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
