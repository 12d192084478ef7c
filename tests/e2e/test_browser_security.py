"""In a real browser: the pages work under the Content-Security-Policy, and no other site can frame them.

Every page load records the browser's CSP violation reports (the
`securitypolicyviolation` event, hooked in before any page script runs) and its
console errors; each page must end with none. Screenshots land in screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, MediaType, get
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import SHOTS
from tests.factories import PASSWORD, create_partner, create_point, create_staff, ensure_procedures
from tests.servers import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.stack]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture(scope="module")
def staff():
    ensure_procedures()
    partner = create_partner(name="Bưu điện CSP (thử)")
    return create_staff(create_point(partner, name="Bưu điện Hàng Trống (thử)"), partner)


class WatchedPage:
    """A page whose CSP violations and console errors are collected."""

    def __init__(self, context: BrowserContext) -> None:
        context.add_init_script(RECORD_VIOLATIONS)
        self.page = context.new_page()
        self.console_errors: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console_errors.append(message.text)

    def violations(self) -> list[str]:
        return [*self.page.evaluate("window.__csp || []"), *self.console_errors]

    def assert_clean(self, what: str) -> None:
        assert self.violations() == [], f"{what}: {self.violations()}"


def _context(browser: Any) -> BrowserContext:
    return browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})


def test_pages_work_under_the_content_security_policy(stack, browser, staff):
    watched = WatchedPage(_context(browser))
    page: Page = watched.page

    page.goto(f"{stack.web_url}/")
    expect(page.locator("header.top")).to_be_visible()
    watched.assert_clean("home")
    page.screenshot(path=str(SHOTS / "csp-01-home.png"), full_page=True)

    page.goto(f"{stack.web_url}/login")
    # The card's width came from an inline style; it now comes from portal.css.
    assert page.locator(".card.sign-in").evaluate("e => getComputedStyle(e).maxWidth") == "440px"
    watched.assert_clean("login")
    page.screenshot(path=str(SHOTS / "csp-02-login.png"), full_page=True)
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(staff.full_name)
    assert page.get_by_test_id("who").evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    watched.assert_clean("dossier list after sign-in")

    page.goto(f"{stack.web_url}/dossiers/new/1.001193")
    expect(page.locator("#submit-dossier")).to_be_visible()
    # portal.js (formerly inline) is running: a submitted data-once form disables its button.
    page.fill("#owner_full_name", "Nguyễn Văn An")
    page.click("#submit-dossier")
    expect(page.locator("#owner_full_name")).to_have_value("Nguyễn Văn An")  # re-rendered with field errors
    watched.assert_clean("staff dossier form")
    page.screenshot(path=str(SHOTS / "csp-03-dossier-form.png"), full_page=True)
    page.evaluate("document.querySelector('form[data-once]').addEventListener('submit', e => e.preventDefault())")
    page.click("#submit-dossier")
    expect(page.locator("#submit-dossier")).to_be_disabled()

    citizen = WatchedPage(_context(browser))
    citizen.page.goto(f"{stack.web_url}/track")
    citizen.page.fill("#code", "HN-0000-0000")
    citizen.page.fill("#phone", "0912345678")
    citizen.page.click("button[type=submit]")
    expect(citizen.page.locator("body")).to_contain_text("Không tìm thấy hồ sơ với mã và số điện thoại này")
    citizen.assert_clean("track")
    citizen.page.screenshot(path=str(SHOTS / "csp-04-track.png"), full_page=True)


def _other_site(portal_url: str) -> Any:
    """Another origin (its own port on the loopback): a page framing the portal's sign-in, and a harmless page."""

    @get("/framing", media_type=MediaType.HTML, sync_to_thread=False)
    def framing() -> str:
        return (
            "<!doctype html><html><body><h1>Another site</h1>"
            f'<iframe id="victim" src="{portal_url}/login" width="600" height="400"></iframe>'
            '<iframe id="control" src="/harmless" width="300" height="100"></iframe></body></html>'
        )

    @get("/harmless", media_type=MediaType.HTML, sync_to_thread=False)
    def harmless() -> str:
        return '<!doctype html><p id="framed">framed fine</p>'

    return Litestar([framing, harmless])


def test_another_site_cannot_frame_a_portal_page(stack, browser):
    """A harmless page of the other site frames fine next to it: the refusal is the portal's doing."""
    with serve_in_thread(lambda _url: _other_site(stack.web_url)) as (other_url, _app):
        page = _context(browser).new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
        with page.expect_response(f"{stack.web_url}/login") as answer:
            page.goto(f"{other_url}/framing")
        expect(page.frame_locator("#control").locator("#framed")).to_have_text("framed fine")
        expect(page.frame_locator("#victim").locator("#email")).to_have_count(0)
        assert answer.value.headers["x-frame-options"] == "DENY"
        assert any("frame-ancestors 'none'" in line for line in refused), refused
        page.screenshot(path=str(SHOTS / "csp-05-framing-refused.png"), full_page=True)


def test_the_api_reference_runs_under_the_base_policy_with_nothing_of_its_own_blocked(stack, browser):
    """/schema is the portal's own Swagger UI: the base policy blocks nothing it needs."""
    watched = WatchedPage(_context(browser))
    errors: list[str] = []
    watched.page.on("pageerror", lambda e: errors.append(str(e)))
    watched.page.goto(f"{stack.web_url}/schema")
    watched.page.wait_for_load_state("load")
    reports = watched.page.evaluate("window.__csp || []")
    assert not [r for r in reports if " inline " in f" {r} " and "script" in r], reports
    assert not [r for r in reports if r.split()[1].startswith(stack.web_url)], reports  # nothing of our own blocked
    watched.page.screenshot(path=str(SHOTS / "csp-06-openapi.png"), full_page=True)
