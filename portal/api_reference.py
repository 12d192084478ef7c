"""The API reference at /schema: Swagger UI served by the portal itself.

Litestar's bundled render plugins load their scripts from CDNs (a blank page
offline) and start them with inline scripts (refused by a strict
Content-Security-Policy). This page needs neither: the vendored Swagger UI
(`templates/static/vendor/swagger-ui/`, version and checksums in its
`vendor.json`, refreshed with `scripts/vendor_swagger_ui.py`) and a small
start-up file, `/static/api-reference.js`, which reads the schema's URL from a
data attribute. The schema itself stays at `/schema/openapi.json`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

VENDOR = "/static/vendor/swagger-ui"


class ApiReferencePlugin(OpenAPIRenderPlugin):
    """Swagger UI at /schema (and /schema/swagger), every asset from /static."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
  <link rel="stylesheet" href="/static/api-reference.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}"></div>
  <script src="{VENDOR}/swagger-ui-bundle.js"></script>
  <script src="/static/api-reference.js"></script>
</body>
</html>
""".encode()
