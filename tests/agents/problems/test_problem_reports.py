"""Problem reports: filed with the tracking code and the owner's phone, answered by the partner's manager
and the center until resolved, followed by the citizen through the report's own link."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from agents.problems import service
from agents.problems.models import ProblemReport, ProblemStatus
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person, file_birth_registration


def _public() -> Scope:
    return Scope.network("test: citizen reports", actor_label="citizen (problem report)")


def _reports() -> int:
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        return session.scalar(select(func.count()).select_from(ProblemReport)) or 0


@pytest.fixture(scope="module")
def filed():
    partner, point, staff = create_counter()
    return partner, file_birth_registration(staff, point, owner_phone="0912000333")


def test_a_report_needs_a_real_tracking_code_and_the_owners_phone(filed):
    _, dossier = filed
    before = _reports()
    for code, phone in (("HN-0000-0000", "0912000333"), (dossier.tracking_code, "0999999999")):
        with unit_of_work(_public()) as session, pytest.raises(NotFound, match="Không tìm thấy hồ sơ"):
            service.report(session, code, phone, "overcharging", "")
    with unit_of_work(_public()) as session, pytest.raises(ValidationFailed) as bad:
        service.report(session, dossier.tracking_code, "0912000333", "weather", "")
    assert set(bad.value.field_errors) == {"kind"}
    with unit_of_work(_public()) as session, pytest.raises(ValidationFailed) as empty:
        service.report(session, dossier.tracking_code, "0912000333", "other", "  ")
    assert set(empty.value.field_errors) == {"description"}
    with unit_of_work(_public()) as session, pytest.raises(ValidationFailed):
        service.report(session, dossier.tracking_code, "0912000333", "rudeness", "x" * 2001)
    assert _reports() == before


def test_the_manager_and_the_center_answer_until_it_is_resolved_and_the_citizen_follows(filed):
    partner, dossier = filed
    with unit_of_work(_public()) as session:
        report = service.report(session, dossier.tracking_code, "0912 000 333", "overcharging", "Thu thêm 50.000 đ")
        reference, report_id = report.reference, report.id
    token = service.follow_token(reference)
    manager = create_person((Role.partner_manager, partner, None))
    admin = create_person((Role.center_admin, None, None))
    auditor = create_person((Role.auditor, None, None))
    other_manager = create_person((Role.partner_manager, create_counter()[0], None))

    with unit_of_work(manager.partner_scope(partner.id)) as session:
        assert [t.report.reference for t in service.threads(session)] == [reference]
        assert service.open_count(session) == 1
        service.answer(session, manager, report_id, "Chúng tôi đang xác minh", resolve=False)
    with unit_of_work(other_manager.partner_scope(other_manager.grants[0].partner_id)) as session:
        assert service.threads(session) == []
        with pytest.raises(NotFound):  # another partner's report does not exist for them
            service.answer(session, other_manager, report_id, "x", resolve=False)
    with unit_of_work(auditor.network_scope("test: auditor")) as session, pytest.raises(PermissionDenied):
        service.answer(session, auditor, report_id, "x", resolve=False)

    with unit_of_work(_public()) as session:
        thread = service.for_citizen(session, reference.lower(), token)
        assert thread.report.status is ProblemStatus.answered
        assert [m.author for m in thread.messages] == ["citizen", "partner"]
        with pytest.raises(NotFound):
            service.for_citizen(session, reference, "forged")
        service.citizen_reply(session, reference, token, "Tôi có biên lai thu tiền")
    with unit_of_work(admin.network_scope("test: center answers")) as session:
        thread = service.answer(session, admin, report_id, "Đã hoàn lại 50.000 đ", resolve=True)
        assert thread.report.status is ProblemStatus.resolved and thread.report.resolved_at is not None
        assert [m.author for m in thread.messages] == ["citizen", "partner", "citizen", "center"]
        with pytest.raises(Conflict):
            service.answer(session, admin, report_id, "again", resolve=False)
    with unit_of_work(_public()) as session, pytest.raises(Conflict, match="đã được giải quyết"):
        service.citizen_reply(session, reference, token, "thanks")
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(report_id)).order_by(AuditEvent.seq)
        ).all()
    assert actions == ["problem.reported", "problem.answered", "problem.citizen_replied", "problem.resolved"]


def test_an_unknown_report_is_not_found(filed):
    admin = create_person((Role.center_admin, None, None))
    with unit_of_work(admin.network_scope("test")) as session, pytest.raises(NotFound):
        service.answer(session, admin, uuid.uuid4(), "x", resolve=False)
