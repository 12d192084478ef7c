"""The API reference (/schema) is served whole by the portal: no CDN, no inline script.

tests/e2e/test_public_pages_in_a_browser.py renders it offline in a real browser.
"""

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "templates" / "static" / "vendor" / "swagger-ui"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._in = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in and data.strip():
            self.inline_code.append(f"<{self._in}>{data.strip()[:60]}")


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_the_api_reference_loads_everything_from_the_portal_itself(portal):
    client = portal()
    response = client.get("/schema")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = _tags(response.text)
    urls = [attrs.get(name) for _, attrs in page.tags for name in ("src", "href") if attrs.get(name)]
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in urls
    assert all(url.startswith("/static/") for url in urls), urls
    assert not re.search(r"https?://", response.text)
    # A strict Content-Security-Policy (script-src 'self') would refuse inline code.
    assert page.inline_code == []
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    spec_url = next(attrs["data-spec-url"] for tag, attrs in page.tags if attrs.get("data-spec-url"))
    assert "/api/v1/dossiers" in client.get(spec_url).json()["paths"]


@pytest.mark.parametrize("path", ["/schema/redoc", "/schema/elements", "/schema/rapidoc"])
def test_no_page_that_would_load_a_cdn_is_published(portal, path):
    assert portal().get(path).status_code == 404


def test_the_vendored_swagger_ui_is_the_pinned_release_unchanged():
    manifest = json.loads((VENDOR / "vendor.json").read_text(encoding="utf-8"))
    assert manifest["package"] == "swagger-ui-dist" and manifest["license"] == "Apache-2.0"
    assert (VENDOR / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, f"{name} differs from the release"
