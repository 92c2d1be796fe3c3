"""`pants run src/python/backend:alembic -- <alembic arguments>`: Alembic on the backend's database.

The configuration is built here rather than read from an alembic.ini, so the migrations run the
same way from the source tree, a pex and the Docker image.
"""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from alembic import command
from alembic.config import CommandLine, Config

from backend import migrations, servers
from backend.settings import load_settings
from servicekit.settings import exit_on_settings_error


# Where `pants run` (working in the repository's root) finds the migrations' sources: `revision`
# writes its new file there, not into the pex.
SOURCE_TREE_MIGRATIONS = Path("src/python/backend/migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    packaged = Path(migrations.__file__).parent
    in_repository = SOURCE_TREE_MIGRATIONS / "env.py"
    location = SOURCE_TREE_MIGRATIONS if in_repository.is_file() else packaged
    config.set_main_option("script_location", str(location.resolve()))
    # An attribute, not a main option: the ini parser would interpolate '%' in passwords.
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def main(argv: list[str] | None = None) -> None:
    cli = CommandLine(prog="alembic")
    options = cli.parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    with exit_on_settings_error("alembic"):
        settings = load_settings()
    # Alembic's progress lines, as its own CLI shows them; other libraries only when they warn.
    logging.basicConfig(format="%(levelname)-5.5s [%(name)s] %(message)s")
    logging.getLogger("alembic").setLevel(logging.INFO)
    with ExitStack() as stack:
        config = alembic_config(servers.database_url(settings, stack))
        config.cmd_opts = options
        cli.run_cmd(config, options)


if __name__ == "__main__":
    main()
