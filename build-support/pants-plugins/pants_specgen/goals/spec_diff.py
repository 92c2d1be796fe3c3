"""`pants spec-diff --base=<ref>`: the spec changes since a git ref that break clients, and the safe
ones (rules: specgen/diff.py). Exits non-zero on breaking changes unless `--allow-breaking`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pants.base.build_root import BuildRoot
from pants.core.util_rules.system_binaries import GitBinary
from pants.engine.console import Console
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.process import Process, ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule, rule
from pants.option.option_types import BoolOption, StrOption
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

import specgen
from specgen.diff import SpecChanges, compare
from pants_specgen.target_types import AllSpecTargets, SpecSourceField


class SpecDiffSubsystem(GoalSubsystem):
    name = "spec-diff"
    help = "Report spec changes since a git ref, failing on those that break existing clients."

    base = StrOption(
        default="origin/main",
        help="The git ref whose specs existing clients were generated from.",
    )
    allow_breaking = BoolOption(
        default=False,
        help=softwrap("""
            Report breaking changes but exit 0: for a deliberate break, once every client is
            updated or versioned.
            """),
    )


class SpecDiff(Goal):
    subsystem_cls = SpecDiffSubsystem
    # Git reads this machine's checkout.
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@dataclass(frozen=True)
class SpecsAtRefRequest:
    ref: str
    directories: tuple[str, ...]  # the spec directories to look in


@dataclass(frozen=True)
class SpecsAtRef:
    commit: str
    files: FrozenDict[str, str]  # {path: text} of the YAML files in those directories


def _git(
    git: GitBinary,
    build_root: BuildRoot,
    *args: str,
    cache_scope: ProcessCacheScope = ProcessCacheScope.SUCCESSFUL,
) -> Process:
    return Process(
        argv=(git.path, "-C", build_root.path, *args),
        description=f"git {' '.join(args)}",
        level=LogLevel.DEBUG,
        cache_scope=cache_scope,
    )


@rule(desc="Read the specs at a git ref", level=LogLevel.DEBUG)
async def read_specs_at_ref(
    request: SpecsAtRefRequest, git: GitBinary, build_root: BuildRoot
) -> SpecsAtRef:
    # A ref moves, so it is resolved once per run; what a commit holds never changes, so reading
    # it is cached like any other process.
    commitish = f"{request.ref}^{{commit}}"
    resolved = await Get(
        ProcessResult,
        Process,
        _git(
            git,
            build_root,
            "rev-parse",
            "--verify",
            commitish,
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    commit = resolved.stdout.decode().strip()
    directories = (f"{directory}/" for directory in request.directories)
    listing = await Get(
        ProcessResult,
        Process,
        _git(git, build_root, "ls-tree", "-z", "--name-only", commit, "--", *directories),
    )
    paths = sorted(path for path in listing.stdout.decode().split("\0") if path.endswith(".yaml"))
    texts = await MultiGet(
        Get(ProcessResult, Process, _git(git, build_root, "show", f"{commit}:{path}"))
        for path in paths
    )
    return SpecsAtRef(
        commit,
        FrozenDict((path, text.stdout.decode()) for path, text in zip(paths, texts)),
    )


def _report(console: Console, changes: SpecChanges) -> None:
    for title, listed in (
        ("Breaking for clients", changes.breaking),
        ("Safe", changes.safe),
    ):
        if listed:
            console.print_stdout(f"{title}:")
            for change in listed:
                console.print_stdout(f"  {change}")


@goal_rule
async def spec_diff(
    console: Console, subsystem: SpecDiffSubsystem, all_specs: AllSpecTargets
) -> SpecDiff:
    paths = sorted(tgt[SpecSourceField].file_path for tgt in all_specs)
    # The directories of today's specs: a spec removed since the base is still found there.
    directories = tuple(sorted({os.path.dirname(path) for path in paths}))
    current, base = await MultiGet(
        Get(DigestContents, PathGlobs(paths)),
        Get(SpecsAtRef, SpecsAtRefRequest(subsystem.base, directories)),
    )
    try:
        old = specgen.load(base.files)
    except specgen.SpecErrors as errors:
        console.print_stderr(
            f"The specs at {subsystem.base} ({base.commit[:12]}) do not load:\n{errors}"
        )
        return SpecDiff(exit_code=2)
    new = specgen.load({f.path: f.content.decode() for f in current})
    changes = compare(old, new)
    console.print_stdout(f"Spec changes since {subsystem.base} ({base.commit[:12]}):")
    _report(console, changes)
    if not changes.breaking and not changes.safe:
        console.print_stdout("  none")
    if changes.breaking and not subsystem.allow_breaking:
        console.print_stderr(
            f"{len(changes.breaking)} breaking change(s); update the clients first, or pass --spec-diff-allow-breaking."
        )
        return SpecDiff(exit_code=1)
    return SpecDiff(exit_code=0)


def rules():
    return collect_rules()
