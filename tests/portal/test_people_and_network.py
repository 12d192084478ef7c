"""Running the network: onboarding partners, points, and people's whole account lifecycle."""

import re
import uuid

from sqlalchemy import select

from agents.partners.models import Partner
from agents.staff.models import Account, AccountStatus, Role
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_partner, create_person, create_point

NEW_PASSWORD = "mật khẩu đủ dài 2026"


def _as(portal, email, password):
    client = portal()
    response = client.sign_in(email, password)
    return client, response


def _invite_link(page_text: str) -> str:
    return re.search(r"(/invitations/[A-Za-z0-9_\-]+)", page_text).group(1)


def _account(email) -> Account:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        return session.scalar(select(Account).where(Account.email == email))


def _application(code: str, **changes: str) -> dict[str, str]:
    return {
        "code": code,
        "name": "Ngân hàng Thử nghiệm",
        "legal_name": "Ngân hàng TMCP Thử nghiệm",
        "kind": "bank",
        "tax_code": f"{uuid.uuid4().int % 10**10:010d}",
        "contract_start": "01/12/2026",
        "manager_name": "Đào Thị Quản",
        "manager_email": f"quanly@{code.lower()}.vn",
        **changes,
    }


def test_an_application_refused_leaves_no_partner_and_no_record_of_one(portal):
    admin = create_person((Role.center_admin, None, None))
    center, _ = _as(portal, admin.email, "correct horse battery")
    code = f"HALF{uuid.uuid4().hex[:5].upper()}"
    refused = center.post_form("/center/partners", _application(code, manager_email="not-an-email"))
    assert refused.status_code == 422 and "Thông tin đối tác chưa hợp lệ" in refused.text
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        assert session.scalar(select(Partner.id).where(Partner.code == code)) is None
        applied = session.scalars(select(AuditEvent).where(AuditEvent.action == "partner.applied")).all()
        assert code not in {e.detail.get("code") for e in applied}


def test_a_new_partner_applies_is_approved_and_its_first_point_approved(portal):
    admin = create_person((Role.center_admin, None, None))
    center, _ = _as(portal, admin.email, "correct horse battery")
    code = f"NEW{uuid.uuid4().hex[:5].upper()}"
    applied = center.post_form("/center/partners", _application(code))
    assert applied.status_code == 201 and "Đã ghi nhận hồ sơ đăng ký của đối tác" in applied.text
    assert "/invitations/" not in applied.text  # nobody is invited before the approval
    again = center.post_form("/center/partners", _application(code))
    assert again.status_code == 422 and "Mã đối tác đã tồn tại" in again.text
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        partner_id = session.scalar(select(Partner.id).where(Partner.code == code))
    approved = center.post_form(f"/center/partners/{partner_id}/approve", {})
    assert approved.status_code == 200
    link = _invite_link(approved.text)

    invitee = portal()
    short = invitee.post_form(link, {"password": "ngắn", "password_again": "ngắn"})
    assert short.status_code == 422 and "Tối thiểu 10 ký tự" in short.text
    done = invitee.post_form(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert done.status_code == 303
    assert invitee.get(link).status_code == 404  # single use

    manager, signed = _as(portal, f"quanly@{code.lower()}.vn", NEW_PASSWORD)
    assert signed.headers["location"] == "/partner/dashboard"
    bad = manager.post_form(
        "/partner/points",
        {
            "code": "P1",
            "name": "Chi nhánh Hồ Gươm",
            "address": "1 Lê Lai",
            "ward": "Phường Hoàn Kiếm",
            "latitude": "10.77",
            "longitude": "106.7",
        },
    )
    assert bad.status_code == 422 and "Tọa độ nằm ngoài Hà Nội" in bad.text
    registered = manager.post_form(
        "/partner/points",
        {
            "code": f"{code}-HK",
            "name": "Chi nhánh Hồ Gươm",
            "address": "1 Lê Lai",
            "ward": "Phường Hoàn Kiếm",
            "latitude": "21.028",
            "longitude": "105.852",
            "opening_hours": "T2–T6",
        },
    )
    assert registered.status_code == 201
    network = center.get("/center/network").text
    point_id = re.search(r'data-point="' + code + r'-HK".*?/center/points/([0-9a-f-]+)/status', network, re.S).group(1)
    assert center.post_form(f"/center/points/{point_id}/status", {"status": "approved"}).status_code == 200
    # The point now shows on the public list of agent points.
    assert "Chi nhánh Hồ Gươm" in portal().get("/").text


def test_a_person_is_invited_re_roled_deactivated_with_a_reason_and_reactivated(portal):
    partner = create_partner()
    point_a, point_b = create_point(partner, name="Điểm A"), create_point(partner, name="Điểm B")
    manager_person = create_person((Role.partner_manager, partner, None))
    manager, _ = _as(portal, manager_person.email, "correct horse battery")
    email = f"moi-{uuid.uuid4().hex[:6]}@test.vn"
    invited = manager.post_form(
        "/partner/staff/invite",
        {"full_name": "Hà Văn Mới", "email": email, "role": "agent_staff", "agent_point_id": str(point_a.id)},
    )
    assert invited.status_code == 201
    no_point = manager.post_form(
        "/partner/staff/invite", {"full_name": "X", "email": "x2@test.vn", "role": "agent_staff", "agent_point_id": ""}
    )
    assert no_point.status_code == 422
    portal().post_form(_invite_link(invited.text), {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    account = _account(email)

    page = manager.get("/partner/staff").text
    assignment_id = re.search(
        r'data-email="' + re.escape(email) + r'".*?/partner/roles/([0-9a-f-]+)', page, re.S
    ).group(1)
    assert (
        manager.post_form(
            f"/partner/roles/{assignment_id}", {"role": "point_lead", "agent_point_id": str(point_b.id)}
        ).status_code
        == 200
    )
    no_reason = manager.post_form(f"/partner/staff/{account.id}/deactivate", {"reason": " "})
    assert no_reason.status_code == 422
    assert (
        manager.post_form(f"/partner/staff/{account.id}/deactivate", {"reason": "Nghỉ việc từ 01/12/2026"}).status_code
        == 200
    )
    assert _account(email).status is AccountStatus.deactivated
    _, refused = _as(portal, email, NEW_PASSWORD)
    assert refused.status_code == 401 and "Nghỉ việc từ 01/12/2026" in refused.text
    assert manager.post_form(f"/partner/staff/{account.id}/reactivate", {}).status_code == 200
    _, back = _as(portal, email, NEW_PASSWORD)
    assert back.status_code in (302, 303)

    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.object_id == str(account.id)).order_by(AuditEvent.seq)
            )
        ]
    assert actions[:1] == ["account.activated"]
    for expected in ("account.role_changed", "account.deactivated", "account.reactivated"):
        assert expected in actions


def test_a_suspended_partners_people_are_told_why_they_cannot_sign_in(portal):
    partner = create_partner(name="Đối tác Tạm dừng")
    person = create_person((Role.agent_staff, partner, create_point(partner)))
    admin = create_person((Role.center_admin, None, None))
    center, _ = _as(portal, admin.email, "correct horse battery")
    assert (
        center.post_form(f"/center/partners/{partner.id}/status", {"status": "suspended", "reason": ""}).status_code
        == 422
    )
    assert (
        center.post_form(
            f"/center/partners/{partner.id}/status", {"status": "suspended", "reason": "Vi phạm hợp đồng"}
        ).status_code
        == 200
    )
    _, refused = _as(portal, person.email, "correct horse battery")
    assert refused.status_code == 401 and "Vi phạm hợp đồng" in refused.text


def test_a_manager_cannot_deactivate_someone_who_also_works_for_another_partner(portal):
    a, b = create_partner(), create_partner()
    shared = create_person((Role.agent_staff, a, create_point(a)), (Role.agent_staff, b, create_point(b)))
    manager_a = create_person((Role.partner_manager, a, None))
    client, _ = _as(portal, manager_a.email, "correct horse battery")
    assert client.post_form(f"/partner/staff/{shared.account_id}/deactivate", {"reason": "x"}).status_code == 403
    assert _account(shared.email).status is AccountStatus.active


def test_an_invitation_never_takes_over_an_existing_account(portal):
    """A manager invites the center admin's email and opens the link: the admin's account is untouched."""
    partner = create_partner()
    admin = create_person((Role.center_admin, None, None))
    manager_person = create_person((Role.partner_manager, partner, None))
    manager, _ = _as(portal, manager_person.email, "correct horse battery")
    invited = manager.post_form(
        "/partner/staff/invite",
        {"full_name": "X", "email": admin.email, "role": "partner_manager", "agent_point_id": ""},
    )
    link = _invite_link(invited.text)
    attacker = portal()
    taken = attacker.post_form(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    # Answered like any activation (the link's holder learns nothing), and nothing changes.
    assert (taken.status_code, taken.headers["location"]) == (303, "/login?activated=1")
    _, refused = _as(portal, admin.email, NEW_PASSWORD)
    assert refused.status_code == 401
    # The real person, signed in, accepts the new role; their password is unchanged.
    person, signed = _as(portal, admin.email, "correct horse battery")
    assert signed.status_code in (302, 303)
    assert "Nhận vai trò mới" in person.get(link).text
    assert person.post_form(link, {}).status_code == 303
    assert "/partner/dashboard" in person.get("/").text


def test_a_signed_in_person_can_track_a_dossier_too(portal):
    from tests.factories import create_counter, file_birth_registration

    _partner, point, staff = create_counter()
    dossier = file_birth_registration(staff, point)
    client, _ = _as(portal, staff.email, "correct horse battery")
    found = client.post_form("/track", {"code": dossier.tracking_code, "phone": "0912345678"})
    assert found.status_code == 200
    assert client.post_form("/track", {"code": dossier.tracking_code, "phone": "0900000000"}).status_code == 404
