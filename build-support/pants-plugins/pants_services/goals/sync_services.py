"""`pants sync-services [--check]`: scaffold the missing services of services.yml, update infra/."""

from __future__ import annotations

from pants.engine.console import Console
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    FileContent,
    PathGlobs,
    Paths,
    Workspace,
)
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule
from pants.option.global_options import GlobMatchErrorBehavior
from pants.option.option_types import BoolOption
from pants.util.strutil import softwrap

from services.compose import MANAGED_FILES, SectionError
from services.registry import REGISTRY_FILE, load_registry
from services.scaffold import TEMPLATES_DIR
from services.sync import GENERATED_FILES, MODELS_FILE, plan_sync
from specgen.errors import SpecErrors


class SyncServicesSubsystem(GoalSubsystem):
    name = "sync-services"
    help = softwrap(f"""
        Create every service of `{REGISTRY_FILE}` that has no `BUILD` file yet from
        `{TEMPLATES_DIR}/<type>/`, rewrite the generated sections of the Compose files and the
        Caddyfile in `infra/`, and the Swarm stack, Kubernetes manifests and Prometheus
        configuration it renders whole. Existing files of a service are never overwritten, and a
        service removed from the registry is reported, never deleted.
        """)

    check = BoolOption(
        default=False,
        help="Write nothing; fail listing every missing or out-of-date file.",
    )


class SyncServices(Goal):
    subsystem_cls = SyncServicesSubsystem
    # It edits the workspace, which only exists on this machine.
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


def _texts(contents: DigestContents) -> dict[str, str]:
    return {file.path: file.content.decode() for file in contents}


def _required(paths: list[str]) -> PathGlobs:
    return PathGlobs(
        paths,
        glob_match_error_behavior=GlobMatchErrorBehavior.error,
        description_of_origin="`pants sync-services`",
    )


@goal_rule
async def sync_services(
    console: Console, workspace: Workspace, subsystem: SyncServicesSubsystem
) -> SyncServices:
    registry_contents = await Get(DigestContents, PathGlobs, _required([REGISTRY_FILE]))
    try:
        registry = load_registry(_texts(registry_contents)[REGISTRY_FILE], REGISTRY_FILE)
    except SpecErrors as errors:
        console.print_stderr(str(errors))
        return SyncServices(exit_code=1)
    templates, managed, generated, existing, models = await MultiGet(
        Get(DigestContents, PathGlobs([f"{TEMPLATES_DIR}/**/*.j2"])),
        Get(
            DigestContents,
            PathGlobs,
            _required([managed.path for managed in MANAGED_FILES]),
        ),
        Get(DigestContents, PathGlobs(list(GENERATED_FILES))),
        Get(Paths, PathGlobs([f"{service.folder}/**" for service in registry.services])),
        Get(DigestContents, PathGlobs([MODELS_FILE])),
    )
    try:
        plan = plan_sync(
            registry,
            _texts(templates),
            {**_texts(managed), **_texts(generated)},
            set(existing.files),
            _texts(models).get(MODELS_FILE),
        )
    except (SectionError, SpecErrors, ValueError) as error:
        console.print_stderr(str(error))
        return SyncServices(exit_code=1)

    for line in plan.report():
        console.print_stderr(line)
    if subsystem.check:
        out_of_step = bool(plan.files_to_write())
        if out_of_step:
            console.print_stderr("Out of step with services.yml: run `pants sync-services`.")
        return SyncServices(exit_code=1 if out_of_step else 0)

    files = plan.files_to_write()
    if files:
        digest = await Get(
            Digest,
            CreateDigest(FileContent(path, text.encode()) for path, text in sorted(files.items())),
        )
        workspace.write_digest(digest)
    console.print_stderr(
        f"sync-services: wrote {len(files)} file(s)" if files else "sync-services: in step"
    )
    return SyncServices(exit_code=0)


def rules():
    return collect_rules()
