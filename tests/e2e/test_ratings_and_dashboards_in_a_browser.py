"""The rating page and the performance dashboard in a real browser, at 1280 px and on a 390 px phone.

The dashboard's figures arrive through the real worker: filing enqueues reporting.refresh after
commit, the stack's worker runs it, the page reads the rollups. Screenshots land in screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agents.ratings.links import rating_token
from agents.reporting.rollups import touched_keys
from agents.staff.models import Role
from tests.e2e.conftest import SHOTS
from tests.factories import PASSWORD, create_counter, create_person, file_birth_registration

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]

SIZES = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def _fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url}: {scroll_width} px wide on a {width} px screen"


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_citizen_rates_the_counter_and_a_manager_sees_it_on_the_dashboard(stack, browser, size):
    partner, point, staff = create_counter(f"Điểm Bưu điện Hoàn Kiếm {size}")
    _, other_point, other_staff = create_counter(f"Điểm đối tác khác {size}")
    dossier = file_birth_registration(staff, point)
    other = file_birth_registration(other_staff, other_point)
    # This process filed them, so its own broker got the refreshes: hand them to the stack's worker
    # (a rating sent through the stack's web server below reaches the worker by itself).
    control = stack.control()
    for key in sorted(touched_keys([dossier, other])):
        control.send_task("reporting.refresh", args=list(key))
    viewport = SIZES[size]

    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    page.goto(
        f"{stack.web_url}/rate/{dossier.tracking_code}?token={rating_token(dossier.tracking_code, dossier.submitted_at)}"
    )
    form = page.get_by_test_id("rate-counter")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("result-waiting")).to_be_visible()
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"60-rate-{size}.png"), full_page=True)
    form.locator("input[name=stars][value='5']").check()
    form.locator("input[name=attitude][value='very_satisfied']").check()
    form.locator("input[name=timeliness][value='on_time']").check()
    form.locator("input[name=came_back][value='0']").check()
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("rating-done")).to_be_visible()
    expect(page.get_by_test_id("rated-counter")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"61-rated-{size}.png"), full_page=True)
    context.close()

    manager = create_person((Role.partner_manager, partner, None))
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    _sign_in(page, stack.web_url, manager.email)

    def shows_the_rating() -> bool:  # the worker refreshes the rollups after each commit
        page.goto(f"{stack.web_url}/partner/performance")
        return (page.get_by_test_id("avg").inner_text().strip(), page.get_by_test_id("filed").inner_text()) == (
            "5.00",
            "1",
        )

    stack.wait_for(shows_the_rating, what="the worker to refresh the rollups")
    expect(page.get_by_test_id("filed")).to_have_text("1")
    expect(page.get_by_test_id("chart-on_time_rate")).to_be_visible()
    assert other_point.name not in page.content()  # charts and tables hold only the manager's points
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"62-performance-{size}.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("csv-points").click()
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert point.name in body and other_point.name not in body
    page.goto(f"{stack.web_url}/partner/performance?start=2026-12-01&end=2026-01-01")
    expect(page.get_by_test_id("end-error")).to_be_visible()
    assert re.search("Ngày kết thúc trước ngày bắt đầu|The end is before the start", page.content())
    context.close()
