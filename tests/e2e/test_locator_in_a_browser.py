"""The locator in a real browser: offline (Leaflet and the wards' schematic come from the portal),
under the portal's own CSP, at 1280 px and on a 390 px phone, from a ward and from geolocation.

Screenshots land in screenshots/ for people to look at.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures import publishing
from portal.core.db import unit_of_work
from tests.e2e.conftest import SHOTS
from tests.e2e.test_public_pages_in_a_browser import PHONE, _fits_the_phone, offline
from tests.factories import create_partner, setup_scope

pytestmark = [pytest.mark.browser, pytest.mark.stack]

ALWAYS = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(scope="module")
def procedure_code() -> str:
    code = f"6.{uuid.uuid4().int % 1_000_000:06d}"
    partner = create_partner(name="Bưu điện Thử nghiệm Bản đồ")
    with unit_of_work(setup_scope()) as session:
        procedure = publishing.publish(
            session,
            None,
            {
                "code": code,
                "name": "Chứng thực bản sao (thử bản đồ)",
                "field_code": "TEST",
                "field_name": "Chứng thực",
                "handled_by": "UBND phường",
                "processing_days": 0,
                "fee_rules": {"kind": "fixed", "amount_vnd": 2000},
                "required_documents": [{"name": "Bản chính", "original": True, "mandatory": True, "count": 1}],
                "form_schema": {"type": "object", "properties": {}},
            },
        ).procedure
        publishing.enable_procedures(session, None, partner.id, [code])
        for name, lat, lon, ward, week in [
            ("Bưu điện Bờ Hồ (thử)", 21.0277, 105.8525, "Phường Hoàn Kiếm", ALWAYS),
            ("Điểm Cửa Nam (thử)", 21.0230, 105.8450, "Phường Cửa Nam", ALWAYS),
            (
                "Điểm Ba Đình, tên rất dài để xem chữ xuống dòng trên màn hình hẹp (thử)",
                21.0405,
                105.8402,
                "Phường Ba Đình",
                {d: [] for d in ALWAYS},
            ),
            ("Điểm Cầu Giấy (thử)", 21.0336, 105.7985, "Phường Cầu Giấy", ALWAYS),
        ]:
            point = AgentPoint(
                partner_id=partner.id,
                code=f"M{uuid.uuid4().hex[:6]}",
                name=name,
                address=f"Số 1, {ward}, Hà Nội",
                ward=ward,
                latitude=lat,
                longitude=lon,
                weekly_hours=week,
                closed_on_public_holidays=False,
                status=AgentPointStatus.approved,
            )
            session.add(point)
            session.flush()
            session.add(PointProcedure(partner_id=partner.id, agent_point_id=point.id, procedure_id=procedure.id))
    return code


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return problems


@pytest.mark.parametrize("width", [1280, 390])
def test_the_locator_draws_the_nearest_points_over_the_wards_schematic(stack, browser, procedure_code, width):
    viewport = PHONE if width == 390 else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, device_scale_factor=2 if width == 390 else 1, locale="vi-VN")
    refused = offline(context)
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.web_url}/locator")
    page.select_option("#procedure", procedure_code)
    page.select_option("#ward", "00070")  # Phường Hoàn Kiếm
    page.click("#locator-form button[type=submit]")
    found = page.get_by_test_id("found").locator("li")
    expect(found).to_have_count(4)
    expect(found.first).to_contain_text("Bưu điện Bờ Hồ (thử)")
    expect(found.first).to_contain_text("đường thẳng")
    expect(page.locator("#map[data-ready='1']")).to_be_attached(timeout=15000)
    assert page.locator("#map path.leaflet-interactive").count() >= 126 + 4  # the cells and the points
    expect(page.locator(".map-note")).to_contain_text("Sơ đồ phường, xã")
    if width == 390:
        _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"60-locator-{width}.png"), full_page=True)
    assert refused == [] and problems == []
    context.close()


def test_the_browsers_location_finds_the_points_near_it(stack, browser, procedure_code):
    context = browser.new_context(
        viewport=PHONE, geolocation={"latitude": 21.0336, "longitude": 105.7990}, permissions=["geolocation"]
    )
    offline(context)
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.web_url}/lang/en")
    page.goto(f"{stack.web_url}/locator?procedure={procedure_code}")
    page.click("#use-location")
    expect(page.get_by_test_id("found").locator("li").first).to_contain_text("Điểm Cầu Giấy (thử)")
    expect(page.get_by_test_id("found")).to_contain_text("km away (straight line)")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "61-locator-geolocation-390-en.png"), full_page=True)
    assert problems == []
    context.close()


def test_the_procedures_page_fits_a_phone(stack, browser, procedure_code):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{stack.web_url}/procedures?q=thu ban do")
    # The search finds this module's procedure (once) and leaves the others out; other stacks' runs of
    # this module publish procedures of the same name in the same database, so those may show too.
    expect(page.locator(f"[data-testid=procedure][data-code='{procedure_code}']")).to_have_count(1)
    expect(page.locator("[data-testid=procedure][data-code='1.001193']")).to_have_count(0)
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "62-procedures-390.png"), full_page=True)
    context.close()


def test_the_center_sees_the_coverage_map(stack, browser, procedure_code):
    from agents.staff.models import Role
    from tests.factories import PASSWORD, create_person

    admin = create_person((Role.center_admin, None, None), name="Nguyễn Quản Trị")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    refused = offline(context)
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{stack.web_url}/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(admin.full_name)
    page.goto(f"{stack.web_url}/center/coverage")
    expect(page.locator("#map[data-ready='1']")).to_be_attached(timeout=15000)
    expect(page.get_by_test_id("candidates").locator("tbody tr").first).to_be_visible()
    assert page.locator("#map path.leaflet-interactive").count() >= 126
    page.screenshot(path=str(SHOTS / "63-coverage-1280.png"), full_page=True)
    assert refused == [] and problems == []
    context.close()
