"""A point's premises photo in a real browser: the manager uploads it (scanned by the stack's clamd), the
center sees it beside the approve button, the citizen on the locator once the point is approved (390 px).

Screenshots land in screenshots/ (70-photo-*.png).
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from agents.points.models import AgentPointStatus
from agents.procedures import publishing
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.scanner_daemon import EICAR
from tests.agents.documents.test_rules import an_image
from tests.e2e.conftest import SHOTS
from tests.e2e.test_public_pages_in_a_browser import PHONE, _fits_the_phone, offline
from tests.factories import PASSWORD, create_partner, create_person, create_point, offer_at_points, setup_scope

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    partner = create_partner(name="Bưu điện có ảnh (thử trình duyệt)")
    point = create_point(
        partner, status=AgentPointStatus.pending, name=f"Điểm Tràng Tiền có ảnh {uuid.uuid4().hex[:4]}"
    )
    code = f"4.{uuid.uuid4().int % 1_000_000:06d}"
    with unit_of_work(setup_scope()) as session:
        publishing.publish(
            session,
            None,
            {
                "code": code,
                "name": "Thủ tục tìm điểm có ảnh (thử)",
                "field_code": "X",
                "field_name": "X",
                "handled_by": "UBND phường",
                "processing_days": 1,
                "form_schema": {"type": "object", "properties": {}, "required": []},
            },
        )
        publishing.enable_procedures(session, None, partner.id, [code])
    offer_at_points(partner.id, [code])
    return {
        "point": point,
        "code": code,
        "manager": create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản"),
        "admin": create_person((Role.center_admin, None, None), name="Nguyễn Trung Tâm"),
    }


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _loaded(page: Page, selector: str) -> bool:
    """The picture arrived and decoded (waits for it: lazy images load once scrolled to)."""
    page.wait_for_function(
        "s => { const img = document.querySelector(s); return img && img.complete && img.naturalWidth > 0; }",
        arg=selector,
        timeout=15_000,
    )
    return True


def test_the_photo_goes_from_the_manager_to_the_center_and_then_to_the_citizen(stack, browser, network, tmp_path):
    point = network["point"]
    picture, infected = tmp_path / "tru-so.jpg", tmp_path / "tru-so.png"
    picture.write_bytes(an_image("JPEG", (640, 420)))
    infected.write_bytes(b"\x89PNG\r\n\x1a\n" + EICAR)

    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, stack.web_url, network["manager"].email)
    page.goto(f"{stack.web_url}/partner/points/{point.id}")
    expect(page.get_by_test_id("photo")).to_contain_text("Điểm chưa có ảnh trụ sở")
    page.set_input_files("#photo-file", str(infected))
    page.get_by_test_id("photo").get_by_role("button", name="Lưu ảnh").click()
    expect(page.get_by_test_id("photo").locator(".msg")).to_contain_text("Tệp chứa mã độc")
    page.screenshot(path=str(SHOTS / "70-photo-eicar-refused.png"), full_page=True)
    page.set_input_files("#photo-file", str(picture))
    page.get_by_test_id("photo").get_by_role("button", name="Lưu ảnh").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu ảnh trụ sở của điểm")
    expect(page.locator("[data-testid=photo] img.premises")).to_be_visible()
    assert _loaded(page, "[data-testid=photo] img.premises")
    page.screenshot(path=str(SHOTS / "71-photo-manager.png"), full_page=True)
    context.close()

    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, stack.web_url, network["admin"].email)
    page.goto(f"{stack.web_url}/center/network")
    row = page.locator(f"tr[data-point='{point.code}']")
    expect(row.locator("img.premises")).to_be_visible()
    row.scroll_into_view_if_needed()
    assert _loaded(page, f"tr[data-point='{point.code}'] img.premises")
    page.screenshot(path=str(SHOTS / "72-photo-center-approving.png"))
    row.get_by_role("button", name="Duyệt").click()
    expect(page.locator(f"tr[data-point='{point.code}']")).to_contain_text("Đã duyệt")
    context.close()

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="vi-VN")
    refused = offline(context)
    page = context.new_page()
    page.goto(f"{stack.web_url}/locator")
    page.select_option("#procedure", network["code"])
    page.select_option("#ward", "00070")
    page.click("#locator-form button[type=submit]")
    card = page.get_by_test_id("found").locator("li").first
    expect(card).to_contain_text(point.name)
    expect(card.locator("img.premises")).to_be_visible()
    card.scroll_into_view_if_needed()
    assert _loaded(page, "[data-testid=found] li img.premises")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "73-photo-locator-390.png"), full_page=True)
    assert refused == []
    context.close()
