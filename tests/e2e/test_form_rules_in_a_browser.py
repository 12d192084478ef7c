"""A procedure's cross-field rules in a real browser: the message shows before anything is sent.

Screenshots land in screenshots/ for people to look at.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHOTS, attach_scans
from tests.factories import PASSWORD, create_counter, publish_procedure

pytestmark = [pytest.mark.browser, pytest.mark.stack]

CERTIFICATE = "9.000003"  # a test procedure with a rule of each kind


@pytest.fixture(scope="module")
def staff():
    *_, person = create_counter("Bưu điện Kim Mã (trình duyệt)")
    publish_procedure(
        CERTIFICATE,
        name="Thủ tục thử quy tắc",
        form_schema={
            "type": "object",
            "properties": {
                "kind": {"type": "string", "title": "Loại phiếu", "enum": ["Phiếu số 1", "Phiếu số 2"]},
                "purpose": {"type": "string", "title": "Mục đích"},
                "valid_from": {"type": "string", "format": "date", "title": "Hiệu lực từ"},
                "valid_to": {"type": "string", "format": "date", "title": "Hiệu lực đến"},
            },
            "required": ["kind"],
            "x-rules": [
                {
                    "rule": "required_if",
                    "field": "purpose",
                    "when": "kind",
                    "equals": "Phiếu số 2",
                    "message": "Phiếu số 2 cần ghi mục đích",
                },
                {
                    "rule": "date_order",
                    "before": "valid_from",
                    "after": "valid_to",
                    "strict": True,
                    "message": "Hiệu lực đến phải sau hiệu lực từ",
                },
            ],
        },
    )
    return person


def _signed_in(browser, stack, staff, language: str) -> tuple[Page, list[str]]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{stack.web_url}/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(staff.full_name)
    if language == "en":
        page.click("text=EN")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/submit") else None)
    return page, posts


def _owner(page: Page) -> None:
    page.fill("#owner_full_name", "Đỗ Thị Hoa")
    page.fill("#owner_id_number", "001192000777")
    page.fill("#owner_birth_date", "07/07/1992")
    page.fill("#owner_phone", "0912777888")
    page.fill("#owner_address", "5 Kim Mã, Ba Đình, Hà Nội")


def test_a_stay_that_ends_before_it_starts_is_caught_before_the_form_is_sent(stack, browser, staff):
    page, posts = _signed_in(browser, stack, staff, "vi")
    page.goto(f"{stack.web_url}/dossiers/new/1.004194")
    attach_scans(page)
    _owner(page)
    page.fill("[id='form.temporary_address']", "5 Kim Mã, Ba Đình")
    page.fill("[id='form.from_date']", "10/12/2026")
    page.fill("[id='form.to_date']", "01/12/2026")
    page.press("[id='form.to_date']", "Tab")  # leaving the field checks its rules
    message = page.locator("[id='form.to_date-error']")
    expect(message).to_have_text("Ngày kết thúc tạm trú không được trước ngày bắt đầu")
    page.click("#submit-dossier")
    expect(message).to_be_visible()
    expect(page.locator("[id='form.to_date']")).to_be_focused()
    expect(page.locator("#submit-dossier")).to_be_enabled()  # not left disabled by the double-submit guard
    page.screenshot(path=str(SHOTS / "20-rule-before-submit.png"), full_page=True)
    assert posts == []

    page.fill("[id='form.to_date']", "31/05/2027")
    page.press("[id='form.to_date']", "Tab")
    expect(message).to_have_count(0)
    page.click("#submit-dossier")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("form-to_date")).to_have_text("31/05/2027")
    assert len(posts) == 1
    page.context.close()


def test_the_browser_says_it_in_english_and_checks_required_if_and_strict_order(stack, browser, staff):
    page, posts = _signed_in(browser, stack, staff, "en")
    page.goto(f"{stack.web_url}/dossiers/new/1.004194")
    page.fill("[id='form.from_date']", "2026-12-10")  # pasted as ISO: read the same way
    page.fill("[id='form.to_date']", "1/12/2026")
    page.click("#submit-dossier")
    expect(page.locator("[id='form.to_date-error']")).to_have_text(
        "The temporary residence cannot end before it starts"
    )

    page.goto(f"{stack.web_url}/dossiers/new/{CERTIFICATE}")
    _owner(page)
    page.select_option("[id='form.kind']", "Phiếu số 2")
    page.fill("[id='form.valid_from']", "01/01/2027")
    page.fill("[id='form.valid_to']", "01/01/2027")
    page.click("#submit-dossier")
    expect(page.locator("[id='form.purpose-error']")).to_have_text("Phiếu số 2 cần ghi mục đích")
    expect(page.locator("[id='form.valid_to-error']")).to_have_text("Hiệu lực đến phải sau hiệu lực từ")
    expect(page.locator("[id='form.purpose']")).to_be_focused()
    page.screenshot(path=str(SHOTS / "21-rules-required-if-strict.png"), full_page=True)
    page.select_option("[id='form.kind']", "Phiếu số 1")
    expect(page.locator("[id='form.purpose-error']")).to_have_count(0)
    assert posts == []
    page.context.close()
