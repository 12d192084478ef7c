"""The back office (piccolo-admin at /admin) in a real browser: list, filter, export, approve, refuse, 404.

Screenshots land in screenshots/ (admin-*.png).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agents.points.models import AgentPoint, AgentPointStatus
from agents.staff.models import Role
from portal.core.db import read_only
from portal.core.tenancy import Scope
from tests.e2e.conftest import SHOTS
from tests.factories import PASSWORD, create_partner, create_person, create_point

# The single-page app makes a dozen requests before it draws; on a loaded machine that takes seconds.

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem"], indirect=True)]


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    partner = create_partner(name="Viettel Post (thử back office)")
    return {
        "partner": partner,
        "waiting": create_point(partner, status=AgentPointStatus.pending, name="Điểm Kim Mã (chờ duyệt, thử)"),
        "open": create_point(partner, name="Điểm Giảng Võ (đã duyệt, thử)"),
        "admin": create_person((Role.center_admin, None, None), name="Nguyễn Trung Tâm"),
        "manager": create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản"),
    }


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _status(point_id) -> AgentPointStatus:  # type: ignore[no-untyped-def]
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        point = session.get(AgentPoint, point_id)
        assert point is not None
        return point.status


def test_a_center_admin_lists_filters_exports_and_approves_a_point(stack, browser, network):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, stack.web_url, network["admin"].email)
    page.goto(f"{stack.web_url}/admin/")
    expect(page.get_by_text("Bảng dữ liệu").first).to_be_visible()
    expect(page.get_by_text("Nguyễn Trung Tâm").first).to_be_visible()  # the portal's person, no piccolo login
    page.screenshot(path=str(SHOTS / "admin-01-home.png"), full_page=True)

    # The list of points, filtered to those waiting for the center.
    page.goto(f"{stack.web_url}/admin/#/agent_points/?status=pending&partner_id={_key(stack, network['partner'].id)}")
    expect(page.get_by_text("Điểm Kim Mã (chờ duyệt, thử)")).to_be_visible()
    expect(page.get_by_text("Điểm Giảng Võ (đã duyệt, thử)")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "admin-02-points-filtered.png"), full_page=True)

    # Export what the filter shows as CSV.
    page.get_by_text("Xuất CSV").first.click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải xuống").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [row["name"] for row in rows] == ["Điểm Kim Mã (chờ duyệt, thử)"]
    page.screenshot(path=str(SHOTS / "admin-03-export.png"), full_page=True)

    # Approve it through the domain form (our service: validated and audited like the portal page).
    page.goto(f"{stack.web_url}/admin/#/forms/duyệt-điểm/")
    page.fill("input[name='point_id']", str(network["waiting"].id))
    page.get_by_role("button", name="Gửi").click()
    expect(page.get_by_text("Đã duyệt điểm")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-04-approved.png"), full_page=True)
    assert _status(network["waiting"].id) is AgentPointStatus.approved
    context.close()


def _key(stack, row_id) -> str:  # type: ignore[no-untyped-def]
    return row_id.hex if stack.env.get("DATABASE_URL", "sqlite").startswith("sqlite") else str(row_id)


def test_editing_a_column_a_domain_action_owns_is_refused_with_a_clear_message(stack, browser, network):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _sign_in(page, stack.web_url, network["admin"].email)
    page.goto(f"{stack.web_url}/admin/#/agent_points/{_key(stack, network['open'].id)}/")
    status = page.locator("select[name='status']")
    expect(status).to_be_visible()
    status.select_option("closed")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("cột này do biểu mẫu «Duyệt điểm» / «Đóng điểm» quản lý")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-05-refused-edit.png"), full_page=True)
    assert _status(network["open"].id) is AgentPointStatus.approved
    context.close()


def test_a_partner_manager_gets_the_portals_404(stack, browser, network):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    _sign_in(page, stack.web_url, network["manager"].email)
    expect(page.get_by_test_id("who")).to_have_text("Bùi Văn Quản")  # signed in, on the partner's pages
    missing = page.goto(f"{stack.web_url}/no-such-page")
    assert missing is not None and missing.status == 404
    expected = missing.text()
    answer = page.goto(f"{stack.web_url}/admin/")
    assert answer is not None and answer.status == 404
    assert answer.text() == expected  # the portal's own 404, byte for byte
    expect(page.get_by_text("Không tìm thấy")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-06-manager-404.png"), full_page=True)
    context.close()


def test_a_center_admin_publishes_a_version_and_checks_a_catalogue_file_through_the_forms(stack, browser, network):
    code, broken = (f"3.{uuid.uuid4().int % 1_000_000:06d}" for _ in range(2))
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 1000})
    page = context.new_page()
    _sign_in(page, stack.web_url, network["admin"].email)

    page.goto(f"{stack.web_url}/admin/#/forms/công-bố-phiên-bản-thủ-tục/")
    fields = {
        "code": code,
        "name": "Thủ tục công bố trong trình duyệt (thử)",
        "field_code": "BO",
        "field_name": "Thử",
        "handled_by": "UBND phường",
        "processing_days": "2",
        "fee_rules": '{"kind": "fixed", "amount_vnd": -1}',
        "form_schema": json.dumps(FORM_SCHEMA, ensure_ascii=False),
    }
    for name, value in fields.items():
        page.fill(f"[name='{name}']", value)
    page.get_by_role("button", name="Gửi").click()
    expect(page.get_by_text("fee_rules.amount_vnd: Số tiền không được âm")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-07-publish-refused.png"), full_page=True)
    page.fill("[name='fee_rules']", '{"kind": "fixed", "amount_vnd": 5000}')
    page.get_by_role("button", name="Gửi").click()
    expect(page.get_by_text(f"Đã công bố {code}, phiên bản 1")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-08-published.png"), full_page=True)

    page.goto(f"{stack.web_url}/admin/#/forms/nhập-danh-mục-từ-tệp/")
    page.reload()  # the single-page app keeps the last form's answer on screen when only the hash changes
    definition = {**fields, "fee_rules": {"kind": "none"}, "form_schema": FORM_SCHEMA}
    rows = [{**definition, "name": "Thủ tục (nhập lại)"}, {**definition, "code": broken, "processing_days": "hai"}]
    page.fill("[name='content']", json.dumps(rows, ensure_ascii=False))  # a JSON catalogue pastes on one line
    page.get_by_role("button", name="Gửi").click()
    expect(page.get_by_text(f"Dòng 2 ({broken}), «processing_days»")).to_be_visible()
    expect(page.get_by_text("Chỉ kiểm tra: chưa lưu gì.")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-09-import-checked.png"), full_page=True)
    context.close()


FORM_SCHEMA = {"type": "object", "properties": {"so_ban": {"type": "integer", "title": "Số bản"}}, "required": []}
