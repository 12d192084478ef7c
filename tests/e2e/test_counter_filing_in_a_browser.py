"""A whole filing at the counter in a real browser, through the real processes: a birth registration
(three documents: the declaration, the birth certificate, the proxy's authorisation) for a returning
citizen found with their consent and prefilled, filed by a proxy with a scanned authorisation, the owner's
identity checked, one document uploaded, one captured with the camera (Chromium's fake one), an EICAR
file refused, an incomplete submit refused, and the receipt's PDF opened.

Screenshots of each step land in screenshots/4x-*.png (1280 px) and 49-*.png (390 px).
"""

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal.scanner_daemon import EICAR
from tests.documents import a_pdf
from tests.e2e.conftest import SHOTS, file_at_the_counter
from tests.factories import PASSWORD, create_counter

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]

DECLARATION, CERTIFICATE = "to-khai-dang-ky-khai-sinh", "giay-chung-sinh"
AUTHORISATION = "van-ban-uy-quyen-neu-nop-thay"
OWNER = {"owner_full_name": "Hoàng Thị Trở Lại", "owner_id_number": "001190066601", "owner_phone": "0912666601"}


def _signed_in(browser, stack, staff, width: int) -> Page:
    context = browser.new_context(
        locale="vi-VN", viewport={"width": width, "height": 1000}, permissions=["camera"], base_url=stack.web_url
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(staff.full_name)
    return page


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _upload(page: Page, slot: str, name: str, data: bytes, mime: str = "application/pdf") -> None:
    page.set_input_files(f"[id='file-{slot}']", files=[{"name": name, "mimeType": mime, "buffer": data}])
    with page.expect_navigation():
        page.click(f"[id='upload-{slot}']")


def _returning_citizen(page: Page) -> None:
    page.goto("/dossiers/new")
    page.click("a[data-code='1.001193']")
    expect(page).to_have_url(re.compile(r"/drafts/[0-9a-f-]{36}$"))
    expect(page.locator("#counter-timer")).to_be_visible()
    page.check("#consent")
    page.select_option("#consent_given_by", "proxy")
    page.fill("#identifier", OWNER["owner_id_number"])
    with page.expect_navigation():
        page.click("#lookup")
    expect(page.get_by_test_id("lookup-notice")).to_contain_text("điền sẵn")


def test_a_staff_member_files_a_three_document_dossier_for_a_returning_citizen(stack, camera_browser):
    _, _, staff = create_counter("Bưu điện Quầy (trình duyệt)")
    file_at_the_counter(stack, staff, **OWNER)  # the citizen's earlier birth registration here
    page = _signed_in(camera_browser, stack, staff, 1280)

    # 1. A returning citizen, with the consent of the proxy in front of the counter: found, prefilled.
    _returning_citizen(page)
    expect(page.locator("#owner_full_name")).to_have_value(OWNER["owner_full_name"])
    expect(page.locator("#owner_phone")).to_have_value(OWNER["owner_phone"])
    expect(page.locator("[id='form.child_full_name']")).not_to_have_value("")  # shared with the earlier filing
    expect(page.get_by_test_id("consent")).to_contain_text("Người nộp thay")
    _shot(page, "40-returning-citizen-prefilled.png")

    # 2. The owner's identity, checked on a chip-read CCCD.
    page.select_option("#identity-owner-kind", "cccd_chip")
    page.fill("#identity-owner-number", OWNER["owner_id_number"])
    with page.expect_navigation():
        page.click("#identity-owner-submit")
    expect(page.get_by_test_id("identity-owner")).to_contain_text("CCCD gắn chip")

    # 3. The proxy, and the authorisation they bring: a scanned document, not a line of text.
    page.click("#proxy summary")
    page.fill("#proxy_full_name", "Lê Văn Thay Mặt")
    page.fill("#proxy_id_number", "001080066601")
    page.fill("#proxy_phone", "0901666601")
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "saved")
    _upload(page, AUTHORISATION, "uy-quyen.pdf", a_pdf(2))
    expect(page.locator(f"#slot-{AUTHORISATION}")).to_have_attribute("data-state", "digitised")
    expect(page.locator("#proxy_full_name")).to_have_value("Lê Văn Thay Mặt")  # kept across the upload
    _shot(page, "41-proxy-with-authorisation.png")

    # 4. An upload.
    _upload(page, DECLARATION, "to-khai.pdf", a_pdf())
    expect(page.locator(f"[data-testid='stored-{DECLARATION}']")).to_have_count(1)

    # 5. EICAR, dressed as a PDF: refused with a clear message, nothing stored.
    _upload(page, CERTIFICATE, "giay-chung-sinh.pdf", b"%PDF-1.4\n" + EICAR)
    expect(page.locator(f"#document-error-{CERTIFICATE}")).to_contain_text("mã độc")
    expect(page.locator(f"[data-testid='stored-{CERTIFICATE}']")).to_have_count(0)
    _shot(page, "42-eicar-refused.png")

    # 6. Submitted without the birth certificate: refused, with what is missing.
    with page.expect_navigation():
        page.click("#submit-dossier")
    expect(page.locator(".alert.error")).to_contain_text("Giấy chứng sinh")
    expect(page.locator(f"#slot-{CERTIFICATE}")).to_have_class(re.compile(r"\berror\b"))
    _shot(page, "43-incomplete-refused.png")

    # 7. The birth certificate captured with the point's camera: a JPEG page through the same upload.
    page.click(f"#camera-{CERTIFICATE}")
    expect(page.locator("#camera")).to_be_visible()
    expect(page.locator("#camera-shoot")).to_be_enabled()
    page.locator("#camera").screenshot(path=str(SHOTS / "44-camera.png"))
    with page.expect_navigation():
        page.click("#camera-shoot")
    stored = page.locator(f"[data-testid='stored-{CERTIFICATE}']")
    expect(stored).to_have_count(1)
    expect(stored).to_contain_text("JPEG")
    expect(page.locator(f"#slot-{CERTIFICATE}")).to_have_attribute("data-state", "digitised")
    _shot(page, "45-camera-captured.png")

    # 8. Filed; the receipt, and its PDF opened.
    with page.expect_navigation():
        page.click("#submit-dossier")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    code = page.get_by_test_id("tracking-code").inner_text()
    expect(page.get_by_test_id("receipt")).to_contain_text("Lê Văn Thay Mặt")
    _shot(page, "46-receipt.png")
    # The receipt's PDF, fetched as the link's click does (with the staff member's session).
    response = page.request.get(page.get_by_test_id("receipt-pdf").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("application/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert code in text and "Giấy chứng sinh" in text
    page.context.close()


def test_the_counters_citizen_blocks_read_on_a_phone_width(stack, camera_browser):
    _, _, staff = create_counter("Bưu điện Quầy hẹp (trình duyệt)")
    file_at_the_counter(stack, staff, **OWNER)
    page = _signed_in(camera_browser, stack, staff, 390)
    _returning_citizen(page)
    page.click("#proxy summary")
    _shot(page, "49-counter-390.png")
    page.click(f"#camera-{DECLARATION}")
    expect(page.locator("#camera-shoot")).to_be_enabled()
    _shot(page, "49-camera-390.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    page.context.close()
