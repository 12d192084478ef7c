"""A draft at the counter in a real browser: typing is saved as it goes, a lost tab loses nothing,
and a double click or Back and submit again files one dossier.

Screenshots land in screenshots/ for people to look at.
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from agents.dossiers.models import Dossier, DossierDraft
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.e2e.conftest import SHOTS, attach_scans
from tests.factories import PASSWORD, create_counter

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Nháp (trình duyệt)")


def _signed_in(browser, stack, staff) -> Page:
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.web_url}/login")
    page.fill("#email", staff.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(staff.full_name)
    return page


def _saved(page: Page) -> None:
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "saved")


def test_a_lost_tab_loses_nothing_and_submit_files_once_whatever_the_clicks(stack, browser, counter):
    partner, _, staff = counter
    page = _signed_in(browser, stack, staff)
    page.goto(f"{stack.web_url}/dossiers/new")
    page.click("a[data-code='1.001193']")
    expect(page).to_have_url(re.compile(r"/drafts/[0-9a-f-]{36}$"))
    draft_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#counter-timer")).to_be_visible()
    page.fill("#owner_full_name", "Vũ Thị Mất Mạng")
    page.fill("#owner_id_number", "001185000999")
    page.fill("[id='form.child_full_name']", "Vũ Minh An")
    _saved(page)
    page.screenshot(path=str(SHOTS / "30-draft-autosaved.png"), full_page=True)
    page.context.close()  # the tab is gone: closed, crashed, or its connection dropped

    page = _signed_in(browser, stack, staff)
    page.goto(f"{stack.web_url}/dossiers/new")
    resume = page.locator(f"a[data-draft='{draft_id}']")
    expect(resume).to_contain_text("Vũ Thị Mất Mạng")
    page.screenshot(path=str(SHOTS / "31-open-drafts.png"), full_page=True)
    resume.click()
    expect(page.locator("#owner_full_name")).to_have_value("Vũ Thị Mất Mạng")
    expect(page.locator("#owner_id_number")).to_have_value("001185000999")
    expect(page.locator("[id='form.child_full_name']")).to_have_value("Vũ Minh An")
    attach_scans(page)

    page.fill("#owner_birth_date", "05/05/1985")
    page.fill("#owner_phone", "0912000999")
    page.fill("#owner_address", "9 Láng Hạ, Đống Đa, Hà Nội")
    page.fill("[id='form.child_birth_date']", "01/12/2026")
    page.select_option("[id='form.child_sex']", "Nữ")
    page.fill("[id='form.birth_place']", "Bệnh viện Bạch Mai")
    page.fill("[id='form.mother_full_name']", "Vũ Thị Mất Mạng")
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if r.method == "POST" and r.url.endswith("/submit") else None)
    page.dblclick("#submit-dossier")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    code = page.get_by_test_id("tracking-code").inner_text()
    page.screenshot(path=str(SHOTS / "32-draft-filed.png"), full_page=True)

    page.go_back()  # the draft's page again: the server knows it is filed and shows its receipt
    expect(page.get_by_test_id("tracking-code")).to_have_text(code)
    page.screenshot(path=str(SHOTS / "33-back-shows-the-receipt.png"), full_page=True)

    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        key = session.get(DossierDraft, uuid.UUID(draft_id)).idempotency_key
        filed = session.scalar(select(func.count()).select_from(Dossier).where(Dossier.idempotency_key == key))
    assert filed == 1
    assert 1 <= len(submits) <= 2  # the button is disabled after the first click; the server files once anyway
    page.context.close()
