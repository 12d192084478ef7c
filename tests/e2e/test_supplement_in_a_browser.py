"""In a real browser, through the real processes: the city asks for more documents (status 5), the point's
staff member sees the city's note, replaces only the document asked for, and the dossier goes back to the
city once; the city's next report (4) reaches the page, which shows what changed.
"""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agents.dossiers.models import CityRequest, CityRequestState, DossierState
from agents.notifications.models import Notification
from portal.core.db import read_only
from tests.documents import a_pdf
from tests.e2e.conftest import SHOTS, file_at_the_counter
from tests.factories import PASSWORD, create_counter, reload_dossier, setup_scope

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]

NOTE = "Đề nghị bổ sung: Giấy chứng sinh bản gốc (bản đã nộp bị mờ)"


def _rows(model, dossier_id):  # type: ignore[no-untyped-def]
    with read_only(setup_scope()) as session:
        rows = list(session.scalars(select(model).where(model.dossier_id == dossier_id)))
        session.expunge_all()
        return rows


def test_a_status_5_round_trip_from_the_citys_request_to_the_resubmission(stack, browser):
    _, _point, staff = create_counter("Bưu điện Bổ sung (thử)")
    stack.configure_city(step_seconds=0)  # the city moves only when told: it must wait at 5 for us
    try:
        _client, dossier_id, code = file_at_the_counter(stack, staff, notify_sms="on")
        dossier = stack.wait_for(
            lambda: (d := reload_dossier(uuid.UUID(dossier_id))).state is DossierState.forwarded and d,
            what="forwarding",
        )
        city_code = dossier.city_dossier_code
        stack.city.post(f"/_sim/dossiers/{city_code}/advance").raise_for_status()  # 2
        stack.city.post(f"/_sim/dossiers/{city_code}/advance").raise_for_status()  # 4
        stack.city.post(
            f"/_sim/dossiers/{city_code}/status", json={"TrangThaiHoSo": 5, "GhiChu": NOTE}
        ).raise_for_status()
        stack.wait_for(lambda: reload_dossier(uuid.UUID(dossier_id)).city_status == 5, what="the city's status 5")

        context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.goto(f"{stack.web_url}/login")
        page.fill("#email", staff.email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{stack.web_url}/dossiers/{dossier_id}")
        expect(page.get_by_test_id("supplement-note")).to_have_text(NOTE)
        expect(page.get_by_test_id("city-status")).to_contain_text("Yêu cầu bổ sung giấy tờ")
        page.get_by_test_id("supplement").screenshot(path=str(SHOTS / "30-supplement-requested.png"))
        page.set_input_files(
            "#supplement-giay-chung-sinh",
            files=[{"name": "giay-chung-sinh-ban-goc.pdf", "mimeType": "application/pdf", "buffer": a_pdf(2)}],
        )
        page.fill("#supplement-note-input", "Đã nộp bản gốc rõ nét")
        with page.expect_navigation():
            page.get_by_test_id("supplement-submit").click()
        expect(page.get_by_test_id("supplement-form")).to_have_count(0)  # answered: no second submission
        diff = page.get_by_test_id("supplement-diff")
        expect(diff).to_contain_text("giay-chung-sinh-ban-goc.pdf")
        expect(diff).to_contain_text("thay thế")  # the counter's scan of it is replaced, not lost
        page.screenshot(path=str(SHOTS / "31-supplement-submitted.png"), full_page=True)

        # The worker sends it; the city goes back to processing and says so by callback.
        stack.wait_for(lambda: reload_dossier(uuid.UUID(dossier_id)).city_status == 4, what="the city's 4 again")
        page.reload()
        expect(page.get_by_test_id("city-status")).to_contain_text("Đang xử lý")
        expect(page.get_by_test_id("supplement-sending")).to_contain_text("Hệ thống một cửa đã nhận")
        page.screenshot(path=str(SHOTS / "32-supplement-back-at-the-city.png"), full_page=True)
        context.close()
    finally:
        stack.configure_city(step_seconds=0.4)

    [request] = _rows(CityRequest, uuid.UUID(dossier_id))
    assert request.state is CityRequestState.sent and request.attempts == 1
    [at_city] = stack.city_dossiers(code)
    history = stack.city.get(f"/_sim/dossiers/{city_code}").json()
    statuses = [entry["TrangThaiHoSo"] for entry in history["LichSu"]]
    assert statuses[:5] == [1, 2, 4, 5, 4], "the city took the supplement once"
    assert at_city["MaHoSo"] == city_code
    told = [n for n in _rows(Notification, uuid.UUID(dossier_id)) if n.city_status == 5]
    assert len(told) == 1 and "Giấy chứng sinh bản gốc" in told[0].body  # the citizen is told what to bring
