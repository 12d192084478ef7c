"""Every dashboard in a real browser, as a partner's manager and as the center's admin, at 1280 and 390 px.

The figures arrive through the stack's worker (reporting.refresh); a manager's charts, tables and
exports (CSV, XLSX at once, and XLSX built by the worker with its progress page) hold only their
own points. The public transparency page fits a phone. Screenshots land in screenshots/.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from agents.reporting.rollups import touched_keys
from agents.staff.models import Role
from tests.e2e.conftest import SHOTS
from tests.factories import (
    PASSWORD,
    create_counter,
    create_person,
    create_point,
    create_staff,
    file_birth_registration,
)

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


def _cells(path: str) -> str:
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True)
    return "\n".join(str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_each_dashboard_as_a_manager_and_as_the_center_with_only_the_managers_points_in_their_exports(
    stack, browser, size
):
    partner, point, staff = create_counter(f"Điểm Hiệu Quả {size}")
    others = [create_point(partner, name=f"Điểm Hiệu Quả {size} số {n}") for n in range(2, 5)]
    other_partner, foreign, foreign_staff = create_counter(f"Điểm Đối Thủ {size}")
    dossiers = [file_birth_registration(staff, point)]
    dossiers += [file_birth_registration(create_staff(p, partner), p) for p in others]
    dossiers.append(file_birth_registration(foreign_staff, foreign))
    control = stack.control()  # this process filed them: hand the refreshes to the stack's worker
    for key in sorted(touched_keys(dossiers)):
        control.send_task("reporting.refresh", args=list(key))
    viewport = SIZES[size]
    mine = [point.name, *[p.name for p in others]]

    manager = create_person((Role.partner_manager, partner, None))
    context = browser.new_context(viewport=viewport, device_scale_factor=1, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, stack.web_url, manager.email)

    def all_four_filed() -> bool:
        page.goto(f"{stack.web_url}/partner/performance")
        return page.get_by_test_id("filed").inner_text() == "4"

    stack.wait_for(all_four_filed, what="the worker to refresh the manager's rollups")
    chart = page.get_by_test_id("chart-on_time_rate")
    expect(chart).to_be_visible()
    labels = chart.locator("g[data-label]").evaluate_all("gs => gs.map(g => g.dataset.label)")
    assert sorted(labels) == sorted(mine)  # the chart holds exactly the manager's points
    assert foreign.name not in page.content()
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"70-partner-performance-{size}.png"), full_page=True)

    with page.expect_download() as csv_download:
        page.get_by_test_id("csv-weeks").click()  # one row: sent at once
    assert Path(csv_download.value.path()).read_text(encoding="utf-8-sig").startswith("key,name,filed")

    # Four points: more rows than the stack's 3, so the worker builds the XLSX in the manager's scope.
    page.get_by_test_id("xlsx-points").click()
    expect(page.get_by_test_id("export-offer")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"71-export-offer-{size}.png"), full_page=True)
    page.get_by_test_id("start-export").click()
    expect(page.get_by_test_id("export-job")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"72-export-progress-{size}.png"), full_page=True)
    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=180_000)  # the page refreshes itself
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"73-export-done-{size}.png"), full_page=True)
    with page.expect_download() as xlsx_download:
        page.get_by_test_id("export-download").click()
    cells = _cells(xlsx_download.value.path())
    assert all(name in cells for name in mine) and foreign.name not in cells

    page.goto(f"{stack.web_url}/partner/dashboard")  # the figures since opening, from the rollups too
    expect(page.locator(f'tr[data-point="{point.name}"]')).to_be_visible()
    assert foreign.name not in page.content()
    page.screenshot(path=str(SHOTS / f"74-partner-dashboard-{size}.png"), full_page=True)
    page.goto(f"{stack.web_url}/partner/performance?start=2026-12-01&end=2026-01-01")
    expect(page.get_by_test_id("end-error")).to_be_visible()
    context.close()

    admin = create_person((Role.center_admin, None, None))
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    _sign_in(page, stack.web_url, admin.email)
    page.goto(f"{stack.web_url}/center/performance")
    partners = page.get_by_test_id("rows-partners")
    expect(partners.locator(f'tr[data-row="{partner.name}"]')).to_be_visible()
    expect(partners.locator(f'tr[data-row="{other_partner.name}"]')).to_be_visible()
    expect(page.locator('#map[data-ready="1"]')).to_be_attached(timeout=30_000)
    assert page.locator("#map path.leaflet-interactive").count() > 0  # the wards' schematic and the points
    expect(page.get_by_test_id("coverage-gaps")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"75-center-performance-{size}.png"), full_page=True)
    page.goto(f"{stack.web_url}/center/dashboard")
    expect(page.locator(f'tr[data-point="{foreign.name}"]')).to_be_visible()
    page.screenshot(path=str(SHOTS / f"76-center-dashboard-{size}.png"), full_page=True)
    context.close()

    context = browser.new_context(viewport=viewport, device_scale_factor=1)  # a citizen: no account
    page = context.new_page()
    page.goto(f"{stack.web_url}/transparency/{partner.code}")
    expect(page.get_by_test_id("handled")).to_have_text("4")
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"77-transparency-partner-{size}.png"), full_page=True)
    page.goto(f"{stack.web_url}/transparency")
    expect(page.locator(f'tr[data-partner="{partner.code}"]')).to_be_visible()
    assert re.search(r"Kết quả phục vụ|How the network", page.content())
    _fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"78-transparency-network-{size}.png"), full_page=True)
    context.close()
