"""Public pages in a real browser: offline, under a strict CSP, on a phone's width.

Screenshots land in screenshots/ for people to look at.
"""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.stack]

# What the portal's Content-Security-Policy will allow: nothing inline, nothing from elsewhere.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def offline(context: BrowserContext) -> list[str]:
    """Refuse every request that leaves this machine, and note it: the page must not need one."""
    refused: list[str] = []

    def handle(route) -> None:  # type: ignore[no-untyped-def]
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", handle)
    return refused


def under_strict_csp(context: BrowserContext, url_glob: str) -> None:
    """Serve the matching pages with the strict policy, as the portal will."""

    def handle(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    context.route(url_glob, handle)


def test_the_api_reference_renders_offline_under_a_strict_csp(stack, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused = offline(context)
    under_strict_csp(context, "**/schema")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{stack.web_url}/schema")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Agent Network Portal API")
    track = page.locator(".opblock-summary", has_text="/api/v1/track").first
    expect(track).to_be_visible()
    track.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "10-api-reference-offline.png"), full_page=True)

    assert refused == []
    assert violations == []
    assert errors == []
    context.close()
