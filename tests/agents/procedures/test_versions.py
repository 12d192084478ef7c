"""The catalogue is versioned: every publish is a new version, a dossier keeps the one it was filed under."""

import copy
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agents.dossiers import filing, queries
from agents.procedures import publishing
from agents.procedures import service as procedures
from agents.procedures.models import Procedure, ProcedureVersion, vietnam_today
from agents.staff.models import Role
from payments import checkout
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import ValidationFailed
from tests.factories import citizen, create_counter, create_person, offer_at_points, setup_scope


def _definition(code: str, **changes) -> dict:
    return {
        "code": code,
        "name": "Chứng thực bản sao thử",
        "field_code": "CTH",
        "field_name": "Chứng thực",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {"kind": "per_page", "amount_vnd": 2000, "page_field": "pages"},
        "fee_note": "2.000 đồng/trang",
        "city_charges": "before",
        "required_documents": [
            {"name": "Bản chính giấy tờ", "original": True, "mandatory": True, "count": 1},
            {"name": "Bản sao cần chứng thực", "original": False, "mandatory": True, "count": 2},
        ],
        "form_schema": {
            "type": "object",
            "properties": {
                "document_name": {"type": "string", "title": "Tên giấy tờ"},
                "pages": {"type": "integer", "title": "Số trang", "minimum": 1},
            },
            "required": ["document_name", "pages"],
        },
        **changes,
    }


def _code() -> str:
    return f"8.{uuid.uuid4().int % 1_000_000:06d}"


@pytest.fixture(scope="module")
def admin():
    return create_person((Role.center_admin, None, None))


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện phiên bản")


def _publish(admin, definition, **kw):
    with unit_of_work(setup_scope()) as session:
        version = publishing.publish(session, admin, definition, **kw)
        return version.id, version.number


def _file(counter, code, form):
    partner, point, staff = counter
    with unit_of_work(setup_scope()) as session:
        publishing.enable_procedures(session, None, partner.id, [code])
    offer_at_points(partner.id, [code])
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        return filing.file_dossier(
            session, staff, filing.FilingRequest(code, point.id, uuid.uuid4().hex, citizen(), form)
        ).dossier


def test_every_publish_is_a_new_version_and_a_dossier_keeps_the_one_it_was_filed_under(admin, counter):
    code = _code()
    first_id, first = _publish(admin, _definition(code))
    dossier = _file(counter, code, {"document_name": "Bằng tốt nghiệp", "pages": 3})
    raised = _definition(code, name="Chứng thực bản sao (mới)", fee_rules={"kind": "fixed", "amount_vnd": 50000})
    second_id, second = _publish(admin, raised)
    assert (first, second) == (1, 2)
    with read_only(setup_scope()) as session:
        assert session.scalar(select(Procedure).where(Procedure.code == code)).current.id == second_id
        old = session.get(type(dossier), dossier.id)
        assert old.procedure_version_id == first_id
        view = queries.view_of(session, old)
        assert view.procedure.name == "Chứng thực bản sao thử"  # shown by its own version
        assert view.fee.total_vnd == 3 * 2000  # priced by it: 3 pages at 2,000, not today's 50,000
        assert checkout.quote_of(session, old).total_vnd == 6000
    newer = _file(counter, code, {"document_name": "Học bạ", "pages": 3})
    with read_only(setup_scope()) as session:
        assert session.get(type(newer), newer.id).procedure_version_id == second_id
        assert checkout.quote_of(session, session.get(type(newer), newer.id)).total_vnd == 50000


def test_a_version_scheduled_for_a_later_day_takes_effect_on_that_day(admin):
    code = _code()
    _publish(admin, _definition(code))
    later = vietnam_today() + timedelta(days=10)
    _, number = _publish(admin, _definition(code, processing_days=5, effective_from=later.isoformat()))
    with read_only(setup_scope()) as session:
        procedure = session.scalar(select(Procedure).where(Procedure.code == code))
        assert procedure.current.number == 1  # today: the version in force
        assert procedure.version_on(later).number == number == 2
        assert procedure.version_on(later - timedelta(days=1)).number == 1


def test_a_procedure_with_only_a_scheduled_version_is_not_offered_yet(admin):
    code = _code()
    _publish(admin, _definition(code, effective_from=(vietnam_today() + timedelta(days=3)).isoformat()))
    with read_only(setup_scope()) as session:
        assert code not in {p.code for p in procedures.list_published(session)}


def _refused(admin, definition):
    before = _counts()
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        publishing.publish(session, admin, definition)
    assert _counts() == before  # nothing half-saved
    return refused.value.field_errors


def _counts():
    with read_only(setup_scope()) as session:
        return (
            session.scalar(select(func.count(Procedure.id))),
            session.scalar(select(func.count(ProcedureVersion.id))),
            session.scalar(select(func.count(AuditEvent.seq)).where(AuditEvent.action == "procedure.published")),
        )


def test_a_version_scheduled_in_the_past_is_refused(admin):
    yesterday = (vietnam_today() - timedelta(days=1)).isoformat()
    errors = _refused(admin, _definition(_code(), effective_from=yesterday))
    assert list(errors) == ["effective_from"]
    assert "đã qua" in errors["effective_from"]


def test_an_invalid_json_schema_is_refused_naming_where(admin):
    broken = _definition(_code(), fee_rules={"kind": "none"})
    broken["form_schema"] = copy.deepcopy(broken["form_schema"])
    broken["form_schema"]["properties"]["pages"]["type"] = "whole number"
    errors = _refused(admin, broken)
    assert list(errors) == ["form_schema"]
    assert "JSON Schema không hợp lệ" in errors["form_schema"]


def test_a_form_field_without_a_vietnamese_label_and_a_broken_rule_are_refused(admin):
    broken = _definition(_code())
    broken["form_schema"] = copy.deepcopy(broken["form_schema"])
    del broken["form_schema"]["properties"]["pages"]["title"]
    broken["form_schema"]["x-rules"] = [{"rule": "date_order", "before": "a", "after": "b", "message": "x"}]
    errors = _refused(admin, broken)
    assert "form_schema.properties.pages.title" in errors
    assert "form_schema.x-rules" in errors


def test_a_fee_rule_with_a_negative_amount_is_refused(admin):
    errors = _refused(admin, _definition(_code(), fee_rules={"kind": "fixed", "amount_vnd": -5000}))
    assert errors == {"fee_rules.amount_vnd": "Số tiền không được âm"}


def test_bad_required_documents_and_codes_are_refused_by_field(admin):
    errors = _refused(
        admin,
        _definition("1.2.3", processing_days=-1, required_documents=[{"name": "", "original": "yes", "count": 0}]),
    )
    assert set(errors) == {
        "code",
        "processing_days",
        "required_documents[0].name",
        "required_documents[0].original",
        "required_documents[0].count",
    }


def test_only_the_centers_admin_publishes(counter):
    *_, staff = counter
    with pytest.raises(Exception) as refused, unit_of_work(setup_scope()) as session:
        publishing.publish(session, staff, _definition(_code()))
    assert getattr(refused.value, "status_code", None) == 403


def test_a_publish_is_on_the_audit_log(admin):
    code = _code()
    _publish(admin, _definition(code, change_note="Thêm thủ tục"))
    with read_only(setup_scope()) as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "procedure.published").order_by(AuditEvent.seq.desc())
        ).first()
        assert entry.detail["code"] == code and entry.detail["version"] == 1
