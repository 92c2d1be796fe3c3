"""`python -m backend.bench.serve generated|handwritten PORT`: one benchmarked app under uvicorn,
both with the same server settings, on DATABASE_URL and REDIS_URL."""

from __future__ import annotations

import os
import sys

import uvicorn

from backend.alembic_cli import upgrade_to_head
from backend.app import create_app
from backend.settings import DEFAULTS
from backend.bench.handwritten_app import create_handwritten_app

POOL_SIZE = 10


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    if kind == "generated":
        upgrade_to_head(database_url)
        app = create_app(
            database_url, redis_url, DEFAULTS.model_copy(update={"db_pool_size": POOL_SIZE})
        )
    else:
        app = create_handwritten_app(database_url, redis_url, POOL_SIZE)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
