"""`/docs`: Swagger UI served from the service itself (the swagger-ui-bundle-v2 wheel), no CDN.

The page carries no inline script, so a Content-Security-Policy of `script-src 'self'` allows it:
its start-up script is served beside the assets.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

# The files the page loads. Served by name, not as a static folder: a mounted folder behind a
# proxy that strips its prefix (root_path) looks files up under the wrong path.
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{docs}/start.js"></script>
</body>
</html>
"""


def serve_swagger_ui(app: FastAPI, path: str = "/docs") -> None:
    """Swagger UI at `path` for the app's OpenAPI document, with a working Authorize button."""
    openapi_url = app.openapi_url or "/openapi.json"

    async def page(request: Request) -> HTMLResponse:
        docs = _root(request) + path
        return HTMLResponse(
            _PAGE.format(title=f"{app.title} - API", assets=docs + "/assets", docs=docs)
        )

    async def start(request: Request) -> Response:
        options = {
            "url": _root(request) + openapi_url,
            "dom_id": "#swagger-ui",
        }
        script = f"window.ui = SwaggerUIBundle({json.dumps(options)});\n"
        return Response(script, media_type="text/javascript")

    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, "Not Found")
        return FileResponse(swagger_ui_path / name)

    app.add_api_route(path, page, include_in_schema=False)
    app.add_api_route(f"{path}/start.js", start, include_in_schema=False)
    app.add_api_route(f"{path}/assets/{{name}}", asset, include_in_schema=False)


def _root(request: Request) -> str:
    """The prefix a reverse proxy serves the app under (its root_path), for the page's links."""
    return str(request.scope.get("root_path", "")).rstrip("/")
