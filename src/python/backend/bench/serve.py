"""`python -m backend.bench.serve`: the hand-written baseline, configured and served as backend.main
serves the generated app (the same settings from the environment, the same uvicorn set-up)."""

from __future__ import annotations

import uvicorn

from backend.bench.handwritten_app import create_handwritten_app
from backend.settings import load_settings
from servicekit.observability import observed_process
from servicekit.serving import run_until_signalled, serve


def main() -> None:
    settings = load_settings()
    assert settings.database_url is not None and settings.redis_url is not None
    with observed_process(settings, "handwritten"):
        app = create_handwritten_app(str(settings.database_url), str(settings.redis_url), settings)
        # Uninstrumented, it logs uvicorn's access lines (in the same format) instead of its own.
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=settings.metrics_port is None,
        )
        run_until_signalled(lambda: serve(config))


if __name__ == "__main__":
    main()
