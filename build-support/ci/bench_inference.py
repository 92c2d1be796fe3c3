"""Dependency inference of spec targets, timed against a baseline commit, on the generator
benchmark's synthetic spec set (500 models with variants, 200 operations in 8 domains).

Two scratch copies (scratch_repo.py), the working tree and `--baseline`, each with its specs
replaced by the same synthetic set. Each run is a fresh Pants process,
`./pants --no-pantsd --no-local-cache dependencies <the spec folders>`: it reads the BUILD files,
maps modules to owners and infers every spec target's dependencies, nothing else. `list ::` runs
alongside show what that costs without inference: Pants' start-up and every BUILD file read. Runs
are interleaved, their order alternating, so that a change in the machine's load hits both copies
alike. CPU is user + system time of the Pants
process and its children (getrusage), which a loaded machine disturbs far less than wall time.
The dependencies both copies infer are compared, and any that only one infers printed (a baseline
whose generated code imports other modules differs by those).

    python3 build-support/ci/bench_inference.py --baseline df931f0 [--runs 5]
    (df931f0: the last commit whose inference generated each spec's Python to read its imports)
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_export_codegen import place_synthetic_specs
from scratch_repo import copy_repo, run_pants, scratch_dir


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def timed(root: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and stdout of `./pants --no-pantsd <args>`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_pants(root, *args)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{root}: ./pants {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} [{min(values):6.2f} – {max(values):6.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command in each copy")
    options = parser.parse_args()

    copies = {
        f"baseline {options.baseline}": copy_repo(
            scratch_dir("bench-inference-base-"), options.baseline
        ),
        "working tree": copy_repo(scratch_dir("bench-inference-tree-")),
    }
    try:
        for copy, root in copies.items():
            files = place_synthetic_specs(root)
            run_pants(root, "--version")  # plugin resolution and the pex tool, once
            print(f"{copy}: {root}, ready", flush=True)
        spec_dirs = sorted({f"{Path(path).parent}::" for path in files})
        commands = {
            "list ::": ["--no-local-cache", "list", "::"],
            "dependencies": ["--no-local-cache", "dependencies", *spec_dirs],
        }
        timings = {(copy, command): Timings() for copy in copies for command in commands}
        listings: dict[str, set[str]] = {}
        for run in range(options.runs):
            order = list(copies) if run % 2 == 0 else list(reversed(copies))
            for copy in order:
                for command, args in commands.items():
                    wall, cpu, stdout = timed(copies[copy], *args)
                    timings[(copy, command)].wall.append(wall)
                    timings[(copy, command)].cpu.append(cpu)
                    if command == "dependencies":
                        listings[copy] = set(stdout.split())
                    print(
                        f"run {run + 1}/{options.runs}: {copy}, {command}:"
                        f" {wall:.2f} s wall, {cpu:.2f} s CPU",
                        flush=True,
                    )

        print(
            f"\n{len(files)} spec files, {options.runs} runs each; median [min – max] seconds\n"
            f"{'copy':28} {'command':22} {'wall':>24} {'CPU':>24}"
        )
        for (copy, command), timing in timings.items():
            print(f"{copy:28} {command:22} {summary(timing.wall):>24} {summary(timing.cpu):>24}")
        base, tree = copies
        for measure in ("wall", "cpu"):
            # Inference alone: in each run, `dependencies` less the `list ::` run just before it
            # in the same copy; a difference within the noise can come out negative.
            net = {
                copy: [
                    with_inference - without
                    for with_inference, without in zip(
                        getattr(timings[(copy, "dependencies")], measure),
                        getattr(timings[(copy, "list ::")], measure),
                    )
                ]
                for copy in copies
            }
            print(
                f"{measure}: dependencies less list, per run: baseline {summary(net[base])},"
                f" working tree {summary(net[tree])}"
            )
        only_base, only_tree = listings[base] - listings[tree], listings[tree] - listings[base]
        print(
            "same dependencies inferred"
            if not (only_base or only_tree)
            else f"dependencies differ: only baseline {sorted(only_base)}, only working tree {sorted(only_tree)}"
        )
    finally:
        for root in copies.values():
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
