"""A partner is onboarded as a workflow: applied → approved → suspended → restored, or ended; each step audited."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agents.dossiers import filing
from agents.partners import service as partners
from agents.partners.models import Partner, PartnerStatus
from agents.procedures.models import vietnam_today
from agents.staff import service as staff_service
from agents.staff.models import Invitation, Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories import (
    BIRTH_FORM,
    PASSWORD,
    citizen,
    create_counter,
    create_person,
    ensure_procedures,
    setup_scope,
)


@pytest.fixture(scope="module")
def admin():
    return create_person((Role.center_admin, None, None))


def _tax_code() -> str:
    return f"{uuid.uuid4().int % 10**10:010d}"


def _application(**changes) -> dict:
    code = f"AP{uuid.uuid4().hex[:6].upper()}"
    return {
        "code": code,
        "name": "Siêu thị Thử",
        "legal_name": "Công ty Cổ phần Siêu thị Thử",
        "kind": "retail",
        "tax_code": _tax_code(),
        "contact_name": "Trần Liên Hệ",
        "contact_email": "lienhe@sieuthi.vn",
        "contact_phone": "0243123456",
        "contract_start": vietnam_today().isoformat(),
        "contract_end": (vietnam_today() + timedelta(days=365)).isoformat(),
        "manager_name": "Phạm Quản Lý",
        "manager_email": f"quanly-{code.lower()}@sieuthi.vn",
        **changes,
    }


def _apply(admin, **changes) -> Partner:
    with unit_of_work(setup_scope()) as session:
        return partners.apply(session, admin, **_application(**changes))


def _actions(partner_id) -> list[str]:
    with read_only(setup_scope()) as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "partner", AuditEvent.object_id == str(partner_id))
                .order_by(AuditEvent.seq)
            )
        )


def test_an_application_is_approved_suspended_with_a_reason_restored_and_ended(admin):
    partner = _apply(admin)
    assert partner.status is PartnerStatus.applied
    with read_only(setup_scope()) as session:  # nobody is invited before the approval
        assert session.scalar(select(func.count(Invitation.id)).where(Invitation.partner_id == partner.id)) == 0
    with unit_of_work(setup_scope()) as session:
        invitation, token = partners.approve(session, admin, partner.id)
        assert (invitation.email, invitation.role) == (partner.manager_email, Role.partner_manager) and token
    with unit_of_work(setup_scope()) as session:
        partners.suspend(session, admin, partner.id, "Chưa nộp báo cáo quý")
    with unit_of_work(setup_scope()) as session:
        assert partners.restore(session, admin, partner.id).status is PartnerStatus.active
    with unit_of_work(setup_scope()) as session:
        ended = partners.end(session, admin, partner.id, "Hết nhu cầu hợp tác")
        assert ended.status is PartnerStatus.ended and ended.contract_end == vietnam_today()
    assert [a for a in _actions(partner.id) if a != "account.invited"] == [
        "partner.applied",
        "partner.approved",
        "partner.suspended",
        "partner.restored",
        "partner.ended",
    ]
    with pytest.raises(InvalidTransition), unit_of_work(setup_scope()) as session:
        partners.restore(session, admin, partner.id)  # an ended partnership stays ended


def test_an_application_cannot_be_suspended_and_an_approved_partner_cannot_be_approved_again(admin):
    partner = _apply(admin)
    with pytest.raises(InvalidTransition), unit_of_work(setup_scope()) as session:
        partners.suspend(session, admin, partner.id, "x")
    with unit_of_work(setup_scope()) as session:
        partners.approve(session, admin, partner.id)
    with pytest.raises(InvalidTransition), unit_of_work(setup_scope()) as session:
        partners.approve(session, admin, partner.id)


def test_a_suspension_needs_a_reason(admin):
    partner = _apply(admin)
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        partners.end(session, admin, partner.id, "  ")
    assert refused.value.field_errors == {"reason": "Bắt buộc nhập"}


def test_a_duplicate_tax_code_is_refused_and_nothing_is_saved(admin):
    first = _apply(admin)
    code = f"DUP{uuid.uuid4().hex[:5].upper()}"
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        partners.apply(session, admin, **_application(code=code, tax_code=first.tax_code))
    assert refused.value.field_errors == {"tax_code": "Mã số thuế đã thuộc một đối tác khác"}
    with read_only(setup_scope()) as session:
        assert session.scalar(select(Partner.id).where(Partner.code == code)) is None


@pytest.mark.parametrize("tax_code", ["12345", "01012345678", "0101234567-1", "010123456A", "0101234567 001"])
def test_a_tax_code_of_the_wrong_shape_is_refused(admin, tax_code):
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        partners.apply(session, admin, **_application(tax_code=tax_code))
    assert set(refused.value.field_errors) == {"tax_code"}


def test_a_branch_tax_code_with_its_three_digit_suffix_is_accepted(admin):
    base = _tax_code()
    assert _apply(admin, tax_code=f"{base}-001").tax_code == f"{base}-001"


def test_an_application_names_each_bad_field(admin):
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        partners.apply(
            session,
            admin,
            **_application(
                kind="shop",
                contact_email="not-mail",
                contract_start="2026-12-31",
                contract_end="2026-01-01",
                manager_name="",
            ),
        )
    assert set(refused.value.field_errors) == {"kind", "contact_email", "contract_end", "manager_name"}


def _file(partner, point, staff):
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        return filing.file_dossier(
            session,
            staff,
            filing.FilingRequest("1.001193", point.id, uuid.uuid4().hex, citizen(), dict(BIRTH_FORM)),
        )


def _contract_ends(partner, day):
    with unit_of_work(setup_scope()) as session:
        session.get(Partner, partner.id).contract_end = day


def test_a_contract_files_on_its_last_day_and_stops_the_next(admin):
    ensure_procedures()
    partner, point, staff = create_counter("Bưu điện hết hạn")
    _contract_ends(partner, vietnam_today())
    assert _file(partner, point, staff).created  # the last day still files
    _contract_ends(partner, vietnam_today() - timedelta(days=1))
    with pytest.raises(PermissionDenied) as refused:
        _file(partner, point, staff)
    assert "Hợp đồng của đối tác đã kết thúc ngày" in refused.value.message


def test_the_suspension_reason_is_what_the_partners_people_see_at_sign_in(admin):
    partner, _, staff = create_counter("Bưu điện tạm dừng")
    with unit_of_work(setup_scope()) as session:
        partners.suspend(session, admin, partner.id, "Vi phạm quy định thu phí")
    with pytest.raises(Exception) as refused, unit_of_work(setup_scope()) as session:
        staff_service.authenticate(session, staff.email, PASSWORD)
    assert "Vi phạm quy định thu phí" in str(refused.value.message)


def test_only_the_center_runs_the_workflow(admin):
    partner, _, staff = create_counter("Bưu điện quyền")
    with pytest.raises(PermissionDenied), unit_of_work(setup_scope()) as session:
        partners.suspend(session, staff, partner.id, "tự tạm dừng")
