"""In a real browser (Debian's chromium driven by Playwright): each role's main path.

Screenshots land in screenshots/ for people to look at.
"""

import pytest
from playwright.sync_api import Page, expect

from agents.staff.models import Role
from tests.e2e.conftest import SHOTS, attach_scans
from tests.factories import PASSWORD, create_partner, create_person, create_point, create_staff, ensure_procedures

# The pages do not depend on the broker (the stack tests cover each one): one browser run, on the embedded broker.
pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]


@pytest.fixture(scope="module")
def people():
    ensure_procedures()
    partner = create_partner(name="Bưu điện Việt Nam (thử)")
    point = create_point(partner, name="Bưu điện Bờ Hồ (thử)")
    return {
        "staff": create_staff(point, partner),
        "manager": create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản"),
        "admin": create_person((Role.center_admin, None, None), name="Nguyễn Trung Tâm"),
        "auditor": create_person((Role.auditor, None, None), name="Mai Kiểm Toán"),
    }


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_staff_file_a_dossier_and_the_citizen_tracks_and_rates_it(stack, browser, people):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, stack.web_url, people["staff"].email)
    expect(page.get_by_test_id("who")).to_have_text(people["staff"].full_name)
    page.click("text=Nộp hồ sơ mới")
    page.click("a[data-code='1.001193']")
    attach_scans(page)
    page.fill("#owner_full_name", "Nguyễn Văn An")
    page.fill("#owner_id_number", "00109001234")  # 11 digits: one short
    page.fill("#owner_birth_date", "03/02/1990")
    page.fill("#owner_phone", "0912345678")
    page.fill("#owner_address", "12 Hàng Bài, Hoàn Kiếm, Hà Nội")
    page.fill("[id='form.child_full_name']", "Nguyễn Minh Khôi")
    page.fill("[id='form.child_birth_date']", "01/11/2026")
    page.select_option("[id='form.child_sex']", "Nam")
    page.fill("[id='form.birth_place']", "Bệnh viện Phụ sản Hà Nội")
    page.fill("[id='form.mother_full_name']", "Trần Thị Bình")
    page.click("#submit-dossier")
    expect(page.locator("#owner_id_number-error")).to_have_text("Số CCCD phải gồm đúng 12 chữ số")
    page.screenshot(path=str(SHOTS / "01-form-with-error.png"), full_page=True)
    expect(page.locator("#owner_full_name")).to_have_value("Nguyễn Văn An")

    page.fill("#owner_id_number", "001090012345")
    page.dblclick("#submit-dossier")  # an impatient double click
    expect(page.get_by_test_id("receipt")).to_be_visible()
    code = page.get_by_test_id("tracking-code").inner_text()
    assert code.startswith("HN-")
    page.screenshot(path=str(SHOTS / "02-receipt.png"), full_page=True)
    rating_href = page.get_by_test_id("rating-link").get_attribute("href")

    page.goto(f"{stack.web_url}/dossiers")
    assert page.locator(f"text={code}").count() == 1  # the double click filed once
    page.click(f"text={code}")
    for _ in range(80):  # the page is static: reload until the city's result shows
        if "Đã trả kết quả" in page.get_by_test_id("city-status").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.get_by_test_id("city-status")).to_have_text("Đã trả kết quả")
    page.screenshot(path=str(SHOTS / "03-dossier-history.png"), full_page=True)

    citizen = browser.new_context(locale="vi-VN").new_page()
    citizen.goto(f"{stack.web_url}/track")
    citizen.fill("#code", code)
    citizen.fill("#phone", "0912345678")
    citizen.click("button[type=submit]")
    expect(citizen.get_by_test_id("tracked")).to_contain_text("Đã trả kết quả")
    citizen.screenshot(path=str(SHOTS / "04-public-tracking.png"), full_page=True)
    citizen.goto(f"{stack.web_url}{rating_href}")
    result = citizen.get_by_test_id("rate-result")  # the result's rating (status 10); the counter's may be open too
    for name, value in (("stars", "5"), ("attitude", "very_satisfied"), ("timeliness", "on_time"), ("came_back", "0")):
        result.locator(f"input[name={name}][value='{value}']").check()
    result.locator("textarea[name=comment]").fill("Nhân viên hướng dẫn tận tình")
    result.locator("button[type=submit]").click()
    expect(citizen.get_by_test_id("rating-done")).to_be_visible()

    manager = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 700}).new_page()
    _sign_in(manager, stack.web_url, people["manager"].email)
    expect(manager).to_have_url(f"{stack.web_url}/partner/dashboard")
    row = manager.locator("tr[data-point='Bưu điện Bờ Hồ (thử)']")
    expect(row.get_by_test_id("avg")).to_have_text("5.00")
    manager.screenshot(path=str(SHOTS / "05-partner-dashboard.png"), full_page=True)


def test_center_admin_and_auditor_see_the_network_and_the_audit_chain(stack, browser, people):
    page = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 800}).new_page()
    _sign_in(page, stack.web_url, people["admin"].email)
    expect(page).to_have_url(f"{stack.web_url}/center/dashboard")
    expect(page.get_by_test_id("figures")).to_contain_text("Bưu điện Bờ Hồ (thử)")
    page.screenshot(path=str(SHOTS / "06-center-dashboard.png"), full_page=True)

    auditor = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800}).new_page()
    _sign_in(auditor, stack.web_url, people["auditor"].email)
    auditor.click("text=Kiểm tra chuỗi")
    expect(auditor.get_by_test_id("chain-ok")).to_be_visible()
    auditor.screenshot(path=str(SHOTS / "07-audit-log.png"))
    auditor.click("text=EN")
    expect(auditor.locator("h1")).to_have_text("Audit log")


def test_an_english_browser_gets_the_portal_in_english_until_the_person_picks_vietnamese(stack, browser, people):
    visitor = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800}).new_page()
    visitor.goto(f"{stack.web_url}/")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator("h1")).to_have_text("Public-service agent portal")
    visitor.screenshot(path=str(SHOTS / "08-home-en.png"), full_page=True)
    visitor.goto(f"{stack.web_url}/track")
    visitor.fill("#code", "HN-0000-0000")
    visitor.fill("#phone", "0912000999")
    visitor.click("button[type=submit]")
    expect(visitor.get_by_role("alert")).to_have_text("No dossier with this code and phone number")
    visitor.screenshot(path=str(SHOTS / "09-track-not-found-en.png"), full_page=True)

    _sign_in(visitor, stack.web_url, people["staff"].email)
    visitor.click("text=File a new dossier")
    expect(visitor.locator("a[data-code='1.001193']")).to_contain_text("Time limit: 1 working day ·")
    visitor.click("a[data-code='1.001193']")
    attach_scans(visitor)
    visitor.fill("#owner_id_number", "123")
    visitor.click("#submit-dossier")
    expect(visitor.locator("#owner_id_number-error")).to_have_text("The ID number must be exactly 12 digits")
    expect(visitor.locator("#owner_full_name-error")).to_have_text("Required")
    visitor.screenshot(path=str(SHOTS / "10-form-with-errors-en.png"), full_page=True)
    for field, value in {
        "#owner_full_name": "Lê Văn Bình",
        "#owner_id_number": "001090054321",
        "#owner_birth_date": "1991-04-05",
        "#owner_phone": "0912000999",
        "#owner_address": "3 Hàng Đào, Hà Nội",
        "[id='form.child_full_name']": "Lê Minh Anh",
        "[id='form.child_birth_date']": "2026-11-02",
        "[id='form.birth_place']": "Bệnh viện Bạch Mai",
        "[id='form.mother_full_name']": "Đỗ Thị Hoa",
    }.items():
        visitor.fill(field, value)
    visitor.select_option("[id='form.child_sex']", "Nữ")
    visitor.click("#submit-dossier")
    expect(visitor.get_by_test_id("receipt")).to_contain_text("Track it at")
    expect(visitor.get_by_test_id("receipt").locator("strong")).to_have_text(f"{stack.web_url}/track")
    visitor.screenshot(path=str(SHOTS / "10b-receipt-en.png"), full_page=True)

    visitor.click("a[href='/lang/vi']")
    expect(visitor.locator("html")).to_have_attribute("lang", "vi")
    expect(visitor.locator("h1")).to_have_text("Biên nhận hồ sơ")
    visitor.goto(f"{stack.web_url}/track")  # the choice outlives the page, whatever the browser says
    expect(visitor.locator("h1")).to_have_text("Tra cứu hồ sơ")
    visitor.screenshot(path=str(SHOTS / "11-track-vi-after-choosing.png"), full_page=True)
