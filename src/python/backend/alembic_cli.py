"""`pants run src/python/backend:alembic -- <alembic arguments>`: Alembic on the backend's database
(servicekit.migrations)."""

from __future__ import annotations

from backend import migrations, servers
from backend.settings import load_settings
from servicekit import migrations as service_migrations
from servicekit.settings import exit_on_settings_error


def upgrade_to_head(database_url: str) -> None:
    service_migrations.upgrade_to_head(migrations, database_url)


def main(argv: list[str] | None = None) -> None:
    with exit_on_settings_error("alembic"):
        settings = load_settings()
    service_migrations.alembic_main(
        migrations, lambda stack: servers.database_url(settings, stack), argv
    )


if __name__ == "__main__":
    main()
