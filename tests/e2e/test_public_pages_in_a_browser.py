"""Public pages in a real browser: offline, under a strict CSP, on a phone's width.

Screenshots land in screenshots/ for people to look at.
"""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, expect

from agents.ratings.links import rating_token
from tests.e2e.conftest import SHOTS
from tests.factories import create_counter, file_birth_registration

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


@pytest.fixture(scope="module")
def tracked():
    """A dossier filed at a point whose long name and address must wrap on a phone."""
    _, point, staff = create_counter("Điểm phục vụ hành chính công Bưu điện Trung tâm Hoàn Kiếm (thử màn hình hẹp)")
    return file_birth_registration(staff, point, owner_phone="0912390844")


PHONE = {"width": 390, "height": 844}


def _fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == PHONE["width"]
    assert scroll_width <= inner_width, f"{page.url}: the page is {scroll_width} px wide on a {inner_width} px screen"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_public_pages_fit_a_390_px_phone_without_sideways_scrolling(stack, browser, tracked, language):
    # Not is_mobile: a mobile viewport widens itself to the content, hiding the overflow it should show.
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{stack.web_url}/lang/{language}")

    page.goto(f"{stack.web_url}/")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"30-home-390-{language}.png"), full_page=True)

    page.goto(f"{stack.web_url}/track")
    _fits_the_phone(page)
    page.fill("#code", tracked.tracking_code)
    page.fill("#phone", "0912390844")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("tracked")).to_be_visible()
    expect(page.get_by_test_id("history")).to_be_visible()
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"31-track-390-{language}.png"), full_page=True)

    page.goto(
        f"{stack.web_url}/rate/{tracked.tracking_code}?token={rating_token(tracked.tracking_code, tracked.submitted_at)}"
    )
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"32-rate-390-{language}.png"), full_page=True)

    for path in ("/login", "/no-such-page"):
        page.goto(f"{stack.web_url}{path}")
        _fits_the_phone(page)
    context.close()
