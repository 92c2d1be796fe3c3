"""Pants' own end-to-end time for `export-codegen` on the generator benchmark's synthetic spec set
(500 models with variants, 200 operations in 8 domains), cold and warm, beside the generator alone.

On a scratch copy of the repository (scratch_repo.py) whose specs are replaced by the synthetic set:
  generator alone   specgen.load + generate_python of every file, in this process
  cold              `./pants --no-pantsd --no-local-cache export-codegen ::`: a fresh Pants process
                    that finds, parses and generates everything
  warm, no pantsd   the same again with the local cache: what a CI step without pantsd pays
  pantsd, first     `./pants export-codegen ::` starting pantsd
  pantsd, warm      the same again: nothing changed, pantsd has it all in memory
  pantsd, one spec  after a one-line change to one domain spec: what an edit-and-rerun costs
  inference         `./pants --no-pantsd --no-local-cache dependencies` of every spec target:
                    dependency inference alone (plus Pants' start-up, shown by `--version`)

    python3 build-support/ci/bench_export_codegen.py
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from scratch_repo import copy_repo, run_pants, scratch_dir

PLUGINS = Path(__file__).resolve().parents[1] / "pants-plugins"
sys.path.insert(0, str(PLUGINS))

from specgen import load  # noqa: E402  (the plugin's plain-Python half, from its source root)
from specgen.bench_generate import synthetic_specs  # noqa: E402
from specgen.generate import generate_python  # noqa: E402

SPEC_ROOT = "src/python"  # where the synthetic services' spec folders go
EXPORT = ["export-codegen", "::"]


def place_synthetic_specs(root: Path) -> dict[str, str]:
    """Replaces the copy's specs by the synthetic set; returns the files as written."""
    for spec_dir in [root / "shared" / "spec", *root.glob(f"{SPEC_ROOT}/*/spec")]:
        shutil.rmtree(spec_dir)
    written: dict[str, str] = {}
    for path, text in synthetic_specs().items():
        target = root / (path if path.startswith("shared/") else f"{SPEC_ROOT}/{path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        (target.parent / "BUILD").write_text("spec_sources()\n")
        written[str(target.relative_to(root))] = text
    return written


def generator_alone(files: dict[str, str]) -> float:
    started = time.perf_counter()
    spec = load(files)
    for path in files:
        generate_python(spec, path)
    return time.perf_counter() - started


def timed(root: Path, *args: str, pantsd: bool = False, goal: list[str] = EXPORT) -> float:
    """Seconds `./pants <args> <goal>` takes (export-codegen of everything by default)."""
    started = time.perf_counter()
    result = run_pants(root, *args, *goal, pantsd=pantsd)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"./pants {' '.join([*args, *goal])} failed:\n{result.stderr[-3000:]}")
    return seconds


def stop_pantsd(root: Path) -> None:
    for pid_file in root.glob(".pids/*/pantsd/pid"):
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def main() -> None:
    root = copy_repo(scratch_dir("bench-export-codegen-"))
    try:
        files = place_synthetic_specs(root)
        print(
            f"scratch copy: {root}; {len(files)} spec files, {sum(map(len, files.values())) // 1024} KiB"
        )
        # Plugin resolution and the pex tool, once, so that "cold" is about the specs.
        run_pants(root, "--version")
        alone = generator_alone(files)
        runs = [("generator alone (in process)", alone)]
        spec_dirs = sorted({f"{Path(path).parent}::" for path in files})
        runs.append(("pants start-up: --no-pantsd --version", timed(root, goal=["--version"])))
        runs.append(
            (
                "inference: dependencies of the specs",
                timed(root, "--no-local-cache", goal=["dependencies", *spec_dirs]),
            )
        )
        runs.append(
            (
                "cold: --no-pantsd --no-local-cache",
                timed(root, "--no-local-cache"),
            )
        )
        runs.append(("warm, no pantsd", timed(root)))
        try:
            runs.append(("pantsd, first run", timed(root, pantsd=True)))
            runs.append(("pantsd, warm", timed(root, pantsd=True)))
            domain = next(path for path in files if path.endswith("domain0.yaml"))
            with open(root / domain, "a") as spec:
                spec.write("# one more line\n")
            runs.append(
                (
                    "pantsd, one domain spec changed",
                    timed(root, pantsd=True),
                )
            )
        finally:
            stop_pantsd(root)
        generated = sum(1 for _ in (root / "dist" / "codegen").rglob("*.py"))
        print(f"export-codegen wrote {generated} Python files under dist/codegen\n")
        print(f"{'run':36} {'seconds':>8} {'x generator':>12}")
        for label, seconds in runs:
            print(f"{label:36} {seconds:8.2f} {seconds / alone:12.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
