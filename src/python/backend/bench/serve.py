"""`python -m backend.bench.serve PORT`: the hand-written baseline under uvicorn, started the way
backend.main starts the generated app (same server settings), on DATABASE_URL and REDIS_URL."""

from __future__ import annotations

import os
import sys

import uvicorn

from backend.bench.handwritten_app import create_handwritten_app
from backend.settings import DEFAULTS


def main() -> None:
    port = int(sys.argv[1])
    app = create_handwritten_app(
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"], DEFAULTS.db_pool_size
    )
    uvicorn.run(app, host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
