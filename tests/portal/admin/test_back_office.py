"""The back office at /admin: one sign-in, the portal's 404 for everyone else, no write but ours, on the record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from agents.partners.models import Partner, PartnerStatus
from agents.points.models import AgentPoint, AgentPointStatus
from agents.staff.models import Role
from portal.admin.translation import missing_phrases
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from portal.core.tenancy import Scope
from tests.factories import create_partner, create_person, create_point, create_staff, file_birth_registration


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    partner = create_partner(name="Bưu điện Hà Nội (thử)")
    point = create_point(partner, status=AgentPointStatus.pending, name="Bưu điện Cầu Giấy (thử)")
    return {
        "partner": partner,
        "point": point,
        "admin": create_person((Role.center_admin, None, None), name="Nguyễn Trung Tâm"),
        "auditor": create_person((Role.auditor, None, None), name="Mai Kiểm Toán"),
        "manager": create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản"),
        "staff": create_staff(point, partner),
    }


def _signed_in(portal, person):  # type: ignore[no-untyped-def]
    client = portal()
    assert client.sign_in(person.email).status_code in (302, 303)
    return client


def _key(settings, row_id) -> str:  # type: ignore[no-untyped-def]
    # Our UUIDs as the database stores them: 32 hex digits on SQLite, native on PostgreSQL.
    return row_id.hex if settings.database.is_sqlite else str(row_id)


def _entries(action: str, object_id: object) -> list[AuditEvent]:
    with read_only(Scope.network("test reads the audit log", actor_label="test")) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
                .order_by(AuditEvent.seq)
            )
        )


def _patch(client, url: str, body: dict):  # type: ignore[no-untyped-def]
    return client.http.patch(url, json=body, headers={"x-csrftoken": client.csrf})


def test_a_center_admin_opens_the_back_office_with_the_portal_sign_in_alone(portal, network):
    client = _signed_in(portal, network["admin"])
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert client.get("/admin/api/user/").json()["username"] == "Nguyễn Trung Tâm"
    rows = client.get("/admin/api/tables/agent_points/", params={"code": network["point"].code}).json()["rows"]
    assert [row["name"] for row in rows] == ["Bưu điện Cầu Giấy (thử)"]
    # piccolo's own sign-in, password and API pages never answer
    for url in ("/admin/public/login/", "/admin/api/change-password/", "/admin/api/docs/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", ["anonymous", "manager", "staff"])
def test_anyone_but_the_centers_admins_and_auditors_gets_the_portals_404_byte_for_byte(portal, network, who):
    client = portal() if who == "anonymous" else _signed_in(portal, network[who])
    missing = client.get("/no-such-page-at-all")
    assert missing.status_code == 404
    for url in ("/admin", "/admin/", "/admin/api/tables/agent_points/", "/admin/public/login/", "/admin/assets/x.js"):
        answer = client.get(url, follow_redirects=False)
        assert (answer.status_code, answer.text) == (404, missing.text), url
    posted = client.http.post("/admin/api/forms/duyệt-điểm/", json={}, headers={"x-csrftoken": client.csrf})
    assert posted.status_code == 404


def test_an_auditor_reads_every_list_but_can_change_nothing(portal, settings, network):
    client = _signed_in(portal, network["auditor"])
    assert client.get("/admin/api/tables/partners/").status_code == 200
    assert client.get("/admin/api/tables/audit_events/").status_code == 200
    assert client.get("/admin/api/forms/").json() == []
    url = f"/admin/api/tables/agent_points/{_key(settings, network['point'].id)}/"
    assert _patch(client, url, {"name": "Đổi tên"}).status_code == 405
    assert client.http.post(
        "/admin/api/forms/duyệt-điểm/", json={}, headers={"x-csrftoken": client.csrf}
    ).status_code in (
        404,
        405,
    )


def test_a_column_a_domain_action_owns_is_refused_with_the_action_to_use_and_the_attempt_is_on_record(
    portal, settings, network
):
    client = _signed_in(portal, network["admin"])
    point = network["point"]
    url = f"/admin/api/tables/agent_points/{_key(settings, point.id)}/"
    row = client.get(url).json()
    answer = _patch(client, url, {**row, "status": "approved"})  # the edit page sends the whole row back
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {
            "loc": ["body", "status"],
            "msg": "Không sửa được «status» ở trang quản trị: cột này do biểu mẫu «Duyệt điểm» / «Đóng điểm» quản lý.",
            "type": "refused",
        }
    ]
    assert client.get(url).json()["status"] == "pending"
    refused = _entries("admin.edit_refused", _key(settings, point.id))
    assert refused and refused[-1].actor_label.startswith("Nguyễn Trung Tâm")
    for table, body in (("audit_events", {"action": "x"}), ("partners", {"status": "suspended"})):
        first = client.get(f"/admin/api/tables/{table}/").json()["rows"][0]
        key = first.get("id", first.get("seq"))
        assert _patch(client, f"/admin/api/tables/{table}/{key}/", body).status_code == 422, table


def test_an_allowed_edit_is_written_through_our_unit_of_work_with_the_persons_name_on_record(portal, settings, network):
    client = _signed_in(portal, network["admin"])
    point = network["point"]
    url = f"/admin/api/tables/agent_points/{_key(settings, point.id)}/"
    row = client.get(url).json()
    answer = _patch(client, url, {**row, "opening_hours": "T2–T6 7:30–17:00"})
    assert answer.status_code == 200, answer.text
    assert client.get(url).json()["opening_hours"] == "T2–T6 7:30–17:00"
    [entry] = _entries("admin.row_edited", point.id)[-1:]
    assert entry.actor_label.startswith("Nguyễn Trung Tâm")
    assert entry.detail == {"via": "admin", "changes": {"opening_hours": ["", "T2–T6 7:30–17:00"]}}
    assert entry.partner_id == point.partner_id and entry.scope_reason == "back office: edit of agent_points"


def test_rows_are_neither_added_nor_deleted_through_the_back_office(portal, settings, network):
    client = _signed_in(portal, network["admin"])
    headers = {"x-csrftoken": client.csrf}
    added = client.http.post(
        "/admin/api/tables/partners/", json={"code": "NEW", "name": "X", "kind": "post"}, headers=headers
    )
    assert added.status_code == 422 and "Không thêm dòng" in added.text
    url = f"/admin/api/tables/agent_points/{_key(settings, network['point'].id)}/"
    assert client.http.delete(url, headers=headers).status_code == 422
    assert client.get(url).status_code == 200


def test_a_write_without_the_csrf_token_is_refused(portal, settings, network):
    client = _signed_in(portal, network["admin"])
    url = f"/admin/api/tables/agent_points/{_key(settings, network['point'].id)}/"
    assert client.http.patch(url, json={"name": "x"}).status_code == 403


def test_approving_a_point_is_a_form_that_calls_the_service_validated_and_audited(portal, network):
    client = _signed_in(portal, network["admin"])
    point = create_point(network["partner"], status=AgentPointStatus.pending, name="Điểm chờ duyệt (thử)")
    headers = {"x-csrftoken": client.csrf}
    bad = client.http.post("/admin/api/forms/duyệt-điểm/", json={"point_id": "not-an-id"}, headers=headers)
    assert bad.status_code == 422 and "Mã số điểm không hợp lệ" in bad.json()["custom_form_error"]
    done = client.http.post("/admin/api/forms/duyệt-điểm/", json={"point_id": str(point.id)}, headers=headers)
    assert done.json() == {"custom_form_success": f"Đã duyệt điểm {point.code} — Điểm chờ duyệt (thử)"}
    again = client.http.post("/admin/api/forms/duyệt-điểm/", json={"point_id": str(point.id)}, headers=headers)
    assert again.json()["custom_form_error"] == "Điểm đã ở trạng thái này"
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        assert session.get(AgentPoint, point.id).status is AgentPointStatus.approved
    [entry] = _entries("agent_point.approved", point.id)
    assert entry.actor_label.startswith("Nguyễn Trung Tâm") and entry.scope_reason == "back office: approve a point"


def test_suspending_a_partner_needs_a_reason_like_the_portal_page(portal, network):
    client = _signed_in(portal, network["admin"])
    partner = create_partner(name="Đối tác sẽ tạm dừng (thử)")
    headers = {"x-csrftoken": client.csrf}
    form = "/admin/api/forms/tạm-dừng-đối-tác/"
    refused = client.http.post(form, json={"partner_code": partner.code, "reason": "  "}, headers=headers)
    assert refused.json()["custom_form_error"] == "Cần ghi lý do tạm dừng (reason: Bắt buộc nhập)"
    done = client.http.post(form, json={"partner_code": partner.code, "reason": "Hợp đồng hết hạn"}, headers=headers)
    assert done.status_code == 200, done.text
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        stored = session.get(Partner, partner.id)
        assert (stored.status, stored.status_reason) == (PartnerStatus.suspended, "Hợp đồng hết hạn")
    assert _entries("partner.suspended", partner.id)[0].actor_label.startswith("Nguyễn Trung Tâm")


def test_citizens_personal_data_is_not_shown_and_cannot_be_probed_by_filter(portal, network):
    counter = create_point(network["partner"], name="Điểm có hồ sơ (thử)")
    file_birth_registration(create_staff(counter, network["partner"]), counter, owner_full_name="Nguyễn Văn An")
    client = _signed_in(portal, network["admin"])
    rows = client.get("/admin/api/tables/dossiers/").json()["rows"]
    assert rows, "the dossier is listed"
    for row in rows:
        assert row["owner_full_name"].endswith("***") and len(row["owner_full_name"]) == 4
        assert not {"owner_id_number", "owner_phone", "owner_address", "form_data"} & set(row)
    page = client.get("/admin/api/tables/dossiers/").text
    assert "Nguyễn Văn An" not in page and "0912345678" not in page and "001090012345" not in page
    for params in ({"owner_full_name": "Nguy"}, {"__order": "owner_full_name"}, {"owner_phone": "0912345678"}):
        assert client.get("/admin/api/tables/dossiers/", params=params).status_code in (400, 422), params


def test_the_interface_is_in_vietnamese_with_every_phrase_of_piccolo_translated(portal, network):
    assert missing_phrases() == set()
    client = _signed_in(portal, network["admin"])
    listed = client.get("/admin/public/translations/").json()
    assert listed["default_language_code"] == "vi"
    assert client.get("/admin/public/translations/vi/").json()["translations"]["Export CSV"] == "Xuất CSV"
