"""Helpers that read as domain statements: create_partner(), create_point(), ..."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from agents.dossiers import filing
from agents.dossiers.forwarding import FORWARDER
from agents.dossiers.models import Dossier
from agents.partners.models import Partner, PartnerKind, PartnerStatus
from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures import publishing
from agents.procedures.models import Procedure
from agents.seed import enable_catalogue, seed_procedures
from agents.staff.actor import Actor, load_actor
from agents.staff.models import Account, Role, RoleAssignment
from agents.staff.service import hash_password
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope

PASSWORD = "correct horse battery"


def setup_scope() -> Scope:
    return Scope.network("test setup", actor_label="test setup", origin="tests")


def worker_scope(partner: Partner) -> Scope:
    """The scope a worker forwards a partner's dossiers in (as a task without a scope header would)."""
    return Scope.partner(partner.id, actor_label=FORWARDER, origin="worker")


def ensure_procedures() -> None:
    with unit_of_work(setup_scope()) as session:
        seed_procedures(session)
        session.flush()


def create_partner(*, name: str | None = None, status: PartnerStatus = PartnerStatus.active) -> Partner:
    code = f"P{uuid.uuid4().hex[:8].upper()}"
    with unit_of_work(setup_scope()) as session:
        partner = Partner(code=code, name=name or f"Partner {code}", kind=PartnerKind.post, status=status)
        session.add(partner)
        session.flush()
        seed_procedures(session)
        enable_catalogue(session, partner)  # the center enabled the whole catalogue for it
        return partner


def publish_procedure(code: str, *, name: str = "Thủ tục thử nghiệm", **definition: Any) -> None:
    """Publish a test procedure (once), enable it for every partner there is and offer it at every point."""
    with unit_of_work(setup_scope()) as session:
        if session.scalar(select(Procedure).where(Procedure.code == code)) is None:
            publishing.publish(
                session,
                None,
                {
                    "code": code,
                    "name": name,
                    "field_code": "X",
                    "field_name": "X",
                    "handled_by": "X",
                    "processing_days": 1,
                    "form_schema": {"type": "object", "properties": {}, "required": []},
                    **definition,
                },
            )
        for partner_id in session.scalars(select(Partner.id)):
            publishing.enable_procedures(session, None, partner_id, [code])
            _offer_at_points(session, partner_id, [code])


def create_point(
    partner: Partner,
    *,
    status: AgentPointStatus = AgentPointStatus.approved,
    name: str | None = None,
    offers_catalogue: bool = True,
) -> AgentPoint:
    """A point of the partner; it offers every procedure the center enabled for the partner unless told not to."""
    code = f"PT{uuid.uuid4().hex[:6].upper()}"
    with unit_of_work(setup_scope()) as session:
        point = AgentPoint(
            partner_id=partner.id,
            code=code,
            name=name or f"Điểm {code}",
            address="1 Tràng Tiền",
            ward="Phường Hoàn Kiếm",
            latitude=21.02,
            longitude=105.85,
            status=status,
        )
        session.add(point)
        session.flush()
        # The partner's manager chose every procedure the center enabled for the partner.
        for procedure_id in publishing.enabled_procedure_ids(session, partner.id) if offers_catalogue else ():
            session.add(PointProcedure(partner_id=partner.id, agent_point_id=point.id, procedure_id=procedure_id))
        session.flush()
        return point


def offer_at_points(partner_id: uuid.UUID, codes: list[str]) -> None:
    """Every point of the partner offers these (already enabled) procedures, as its manager would choose."""
    with unit_of_work(setup_scope()) as session:
        _offer_at_points(session, partner_id, codes)


def _offer_at_points(session: Any, partner_id: uuid.UUID, codes: list[str]) -> None:
    procedure_ids = list(session.scalars(select(Procedure.id).where(Procedure.code.in_(codes))))
    for point_id in session.scalars(select(AgentPoint.id).where(AgentPoint.partner_id == partner_id)):
        have = set(
            session.scalars(select(PointProcedure.procedure_id).where(PointProcedure.agent_point_id == point_id))
        )
        for procedure_id in procedure_ids:
            if procedure_id not in have:
                session.add(PointProcedure(partner_id=partner_id, agent_point_id=point_id, procedure_id=procedure_id))
    session.flush()


def create_person(
    *roles: tuple[Role, Partner | None, AgentPoint | None], name: str = "Nguyễn Thị Test", password: str = PASSWORD
) -> Actor:
    email = f"user-{uuid.uuid4().hex[:10]}@test.vn"
    with unit_of_work(setup_scope()) as session:
        account = Account(email=email, full_name=name, password_hash=hash_password(password))
        session.add(account)
        session.flush()
        for role, partner, point in roles:
            session.add(
                RoleAssignment(
                    account_id=account.id,
                    role=role,
                    partner_id=partner.id if partner else None,
                    agent_point_id=point.id if point else None,
                )
            )
        session.flush()
        actor = load_actor(session, account.id)
    assert actor is not None
    return actor


def create_staff(point: AgentPoint, partner: Partner) -> Actor:
    return create_person((Role.agent_staff, partner, point))


def create_counter(point_name: str | None = None) -> tuple[Partner, AgentPoint, Actor]:
    """A partner with one approved point and one staff member there, procedures published."""
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name=point_name)
    return partner, point, create_staff(point, partner)


def citizen(**overrides: str) -> dict[str, str]:
    data = {
        "owner_full_name": "Nguyễn Văn An",
        "owner_id_number": "001090012345",
        "owner_birth_date": "1990-02-03",
        "owner_phone": "0912345678",
        "owner_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
    }
    data.update(overrides)
    return data


BIRTH_FORM = {
    "child_full_name": "Nguyễn Minh Khôi",
    "child_birth_date": date.today().isoformat(),
    "child_sex": "Nam",
    "birth_place": "Bệnh viện Phụ sản Hà Nội",
    "mother_full_name": "Trần Thị Bình",
}


def file_birth_registration(
    actor: Actor,
    point: AgentPoint,
    *,
    key: str | None = None,
    notify_sms: bool = False,
    notify_email: str | None = None,
    origin: str = "",
    **citizen_overrides: str,
) -> Dossier:
    """File a birth registration (1.001193) the way the counter does, through the service (from `origin`)."""
    ensure_procedures()
    with unit_of_work(actor.partner_scope(point.partner_id, origin=origin)) as session:
        filed = filing.file_dossier(
            session,
            actor,
            filing.FilingRequest(
                procedure_code="1.001193",
                agent_point_id=point.id,
                idempotency_key=key or uuid.uuid4().hex,
                citizen=citizen(**citizen_overrides),
                form=dict(BIRTH_FORM),
                notify_sms=notify_sms,
                notify_email=notify_email,
            ),
        )
        return filed.dossier


def reload_dossier(dossier_id: uuid.UUID) -> Dossier:
    """Read a dossier through a fresh session (proves what was committed)."""
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        _ = list(dossier.events)
        return dossier


def form_post(data: dict[str, Any], csrf: str) -> dict[str, Any]:
    return {**data, "_csrf_token": csrf}


def refresh_figures(*points: AgentPoint) -> None:
    """Recompute the rollups of these points for today (local), as the worker does after each commit."""
    from agents.reporting.rollups import local_day_of
    from agents.reporting.tasks import refresh
    from portal.core.db import utcnow

    today = local_day_of(utcnow()).isoformat()
    for point in points:
        for kind in ("dossiers", "ratings"):
            refresh.apply(args=[kind, str(point.id), today], throw=True)
