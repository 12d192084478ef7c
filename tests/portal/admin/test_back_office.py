"""The back office at /admin: one sign-in, the portal's 404 for everyone else, no write but ours, on the record."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from agents.partners.models import Partner, PartnerStatus
from agents.points.models import AgentPoint, AgentPointStatus
from agents.procedures.models import Procedure, ProcedureVersion, vietnam_today
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


FORM_SCHEMA = {"type": "object", "properties": {"so_ban": {"type": "integer", "title": "Số bản"}}, "required": []}


def _new_code() -> str:
    return f"8.{uuid.uuid4().int % 1_000_000:06d}"


def _version_fields(code: str, **changes: str) -> dict[str, str]:
    return {
        "code": code,
        "name": "Thủ tục công bố từ back office",
        "field_code": "BO",
        "field_name": "Thử back office",
        "handled_by": "UBND cấp xã",
        "processing_days": "3",
        "city_charges": "before",
        "fee_rules": json.dumps({"kind": "fixed", "amount_vnd": 20000}),
        "required_documents": json.dumps([{"name": "Tờ khai", "original": True, "mandatory": True, "count": 1}]),
        "form_schema": json.dumps(FORM_SCHEMA, ensure_ascii=False),
        **changes,
    }


def _versions_of(code: str) -> list[int]:
    with read_only(Scope.network("test reads the catalogue", actor_label="test")) as session:
        return list(
            session.scalars(
                select(ProcedureVersion.number)
                .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
                .where(Procedure.code == code)
            )
        )


PUBLISH = "/admin/api/forms/công-bố-phiên-bản-thủ-tục/"
IMPORT = "/admin/api/forms/nhập-danh-mục-từ-tệp/"


def test_publishing_a_version_is_a_form_validated_like_the_catalogue_page_and_audited(portal, network):
    client = _signed_in(portal, network["admin"])
    headers = {"x-csrftoken": client.csrf}
    code = _new_code()
    yesterday = (vietnam_today() - timedelta(days=1)).isoformat()
    bad = _version_fields(
        code, fee_rules='{"kind": "fixed", "amount_vnd": -5}', effective_from=yesterday, form_schema="{not json"
    )
    refused = client.http.post(PUBLISH, json=bad, headers=headers)
    assert refused.status_code == 422
    error = refused.json()["custom_form_error"]
    assert error.startswith("Định nghĩa thủ tục chưa hợp lệ")
    assert "fee_rules.amount_vnd: Số tiền không được âm" in error and "effective_from: Ngày hiệu lực" in error
    assert "form_schema: Ô không phải JSON hợp lệ" in error
    assert _versions_of(code) == []  # nothing half-saved
    done = client.http.post(PUBLISH, json=_version_fields(code), headers=headers)
    assert done.json()["custom_form_success"].startswith(f"Đã công bố {code}, phiên bản 1")
    again = client.http.post(PUBLISH, json=_version_fields(code, name="Thủ tục (sửa)"), headers=headers)
    assert f"Đã công bố {code}, phiên bản 2" in again.json()["custom_form_success"]
    assert sorted(_versions_of(code)) == [1, 2]
    entries = [e for e in _entries_by_action("procedure.published") if e.detail["code"] == code]
    assert [e.detail["version"] for e in entries] == [1, 2]
    assert entries[0].actor_label.startswith("Nguyễn Trung Tâm")
    assert entries[0].scope_reason == "back office: publish a procedure version"


def _catalogue_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_importing_a_catalogue_file_is_a_form_with_the_row_by_row_report(portal, network):
    client = _signed_in(portal, network["admin"])
    headers = {"x-csrftoken": client.csrf}
    good, broken = _new_code(), _new_code()
    content = _catalogue_csv(
        [_version_fields(good), _version_fields(broken, fee_rules='{"kind": "fixed", "amount_vnd": -1}')]
    )
    checked = client.http.post(IMPORT, json={"kind": "csv", "mode": "check", "content": content}, headers=headers)
    report = checked.json()["custom_form_success"]
    assert "Số dòng: 2 · dòng hợp lệ: 1 · dòng lỗi: 1." in report and "Chỉ kiểm tra: chưa lưu gì." in report
    assert f"Dòng 3 ({broken}), «fee_rules.amount_vnd»: Số tiền không được âm." in report
    assert _versions_of(good) == []
    nothing = client.http.post(IMPORT, json={"kind": "csv", "mode": "all", "content": content}, headers=headers)
    assert nothing.status_code == 422 and "Không lưu dòng nào." in nothing.json()["custom_form_error"]
    assert _versions_of(good) == []
    valid = client.http.post(IMPORT, json={"kind": "csv", "mode": "valid", "content": content}, headers=headers)
    assert f"Đã công bố: {good} (phiên bản 1)." in valid.json()["custom_form_success"]
    assert (_versions_of(good), _versions_of(broken)) == ([1], [])
    [entry] = [e for e in _entries_by_action("procedure.catalogue_imported") if f"{good} v1" in e.detail["published"]]
    assert entry.actor_label.startswith("Nguyễn Trung Tâm") and entry.detail["bad_rows"] == [3]
    assert entry.scope_reason == "back office: import a catalogue file"
    unreadable = client.http.post(IMPORT, json={"kind": "xlsx", "mode": "valid", "content": "x"}, headers=headers)
    assert "Chỉ nhận tệp CSV hoặc JSON" in unreadable.json()["custom_form_error"]


def test_an_auditor_has_neither_catalogue_form(portal, network):
    client = _signed_in(portal, network["auditor"])
    headers = {"x-csrftoken": client.csrf}
    for form in (PUBLISH, IMPORT):
        assert client.http.post(form, json={}, headers=headers).status_code in (404, 405)


def _entries_by_action(action: str) -> list[AuditEvent]:
    with read_only(Scope.network("test reads the audit log", actor_label="test")) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
