"""In a real browser: the point's attention page and the center's, with an overdue dossier and one never sent."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from agents.dossiers.models import Dossier, DossierState
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.e2e.conftest import SHOTS
from tests.factories import PASSWORD, create_counter, create_person, file_birth_registration, reload_dossier

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def _set(dossier_id, **values) -> None:
    with unit_of_work(Scope.network("test: arrange dossiers", actor_label="test")) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(**values))


def test_overdue_and_unsent_dossiers_are_shown_and_the_center_sends_one_again(stack, browser):
    _, point, staff = create_counter("Bưu điện Hàng Trống (thử)")
    late = file_birth_registration(staff, point)
    unsent = file_birth_registration(staff, point)
    # The stack's worker would forward them: mark them after the fact, as time and the city would.
    stack.wait_for(lambda: reload_dossier(late.id).state is DossierState.forwarded, what="forwarding")
    # Still "processing" at the city, one day past its due date (a high sequence number keeps the
    # simulator's later reports from moving it on).
    _set(late.id, due_at=datetime.now(UTC) - timedelta(days=1), city_status=4, city_status_seq=1000)
    stack.wait_for(lambda: reload_dossier(unsent.id).state is DossierState.forwarded, what="forwarding")
    _set(
        unsent.id,
        state=DossierState.forward_failed,
        forward_attempts=30,
        city_status=None,
        city_dossier_code=None,
        due_at=None,
    )

    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, stack.web_url, staff.email)
    page.click("text=Hồ sơ cần chú ý")
    expect(page.get_by_test_id("list-overdue")).to_contain_text(late.tracking_code)
    expect(page.get_by_test_id("list-forward_failed")).to_contain_text(unsent.tracking_code)
    page.screenshot(path=str(SHOTS / "20-point-attention.png"), full_page=True)

    admin = create_person((Role.center_admin, None, None), name="Nguyễn Trung Tâm")
    center = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = center.new_page()
    _sign_in(page, stack.web_url, admin.email)
    page.goto(f"{stack.web_url}/center/attention")
    row = page.get_by_test_id("list-forward_failed").locator("tr", has_text=unsent.tracking_code)
    page.screenshot(path=str(SHOTS / "21-center-attention-390px.png"), full_page=True)
    row.get_by_role("button", name="Gửi lại").click()
    expect(page.get_by_test_id("list-forward_failed")).not_to_contain_text(unsent.tracking_code)
    stack.wait_for(lambda: reload_dossier(unsent.id).state is DossierState.forwarded, what="sent again")
    context.close()
    center.close()
