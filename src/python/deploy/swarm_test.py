from __future__ import annotations

import json
from pathlib import Path

from deploy.swarm import images_built_by_pants


def test_the_images_pants_built_are_known_by_id(tmp_path: Path) -> None:
    (tmp_path / "src.python.backend").mkdir()
    (tmp_path / "src.python.backend/image.docker-info.json").write_text(
        json.dumps(
            {
                "version": 1,
                "image_id": "0af599306b52",
                "registries": [
                    {
                        "alias": None,
                        "address": None,
                        "repository": "specfirst/backend",
                        "tags": [{"tag": "latest", "name": "specfirst/backend:latest"}],
                    }
                ],
            }
        )
    )
    assert images_built_by_pants(tmp_path) == {"specfirst/backend:latest": "0af599306b52"}
