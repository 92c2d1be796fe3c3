"""`build-support/bin/deploy-swarm`: deploys infra/swarm/stack.yml to the swarm DOCKER_HOST points
at, waits for every phase to converge and prints the state. The wrapper script builds the images
(`pants package`) first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.converge import ConvergeError
from deploy.docker_cli import DockerError
from deploy.stack_file import STACK_FILE, StackFile, StackFileError
from deploy.swarm import STACK_NAME, Deployment, DeployError, images_built_by_pants


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="deploy-swarm", description=__doc__)
    parser.add_argument("--stack-file", type=Path, default=STACK_FILE)
    parser.add_argument(
        "--name", default=STACK_NAME, help="the stack's name (default: %(default)s)"
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="settings of the services that are neither wiring nor secrets "
        "(default: settings.env beside the stack file)",
    )
    parser.add_argument(
        "--remove", action="store_true", help="remove the stack, its volumes and secrets"
    )
    options = parser.parse_args(argv)
    try:
        deployment = Deployment(
            StackFile.read(options.stack_file),
            options.name,
            options.env_file,
            built_images=images_built_by_pants(),
        )
        if options.remove:
            deployment.remove()
            print(f"removed stack {options.name}")
            return
        for phase, seconds in deployment.run().items():
            print(f"converged: {phase} in {seconds:.1f} s")
        print(deployment.state())
    except (DeployError, ConvergeError, DockerError, StackFileError) as error:
        sys.exit(f"deploy-swarm: {error}")


if __name__ == "__main__":
    main()
