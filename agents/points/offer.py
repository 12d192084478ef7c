"""Which procedures a point offers: chosen by the partner's manager among the published ones."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.points import hours
from agents.points.hours import managed_point
from agents.points.models import AgentPoint, AgentPointStatus, PointClosure, PointProcedure
from agents.procedures import publishing
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_


def choosable(session: Session, point: AgentPoint) -> list[Procedure]:
    """The procedures this point may offer: those of the published catalogue the center enabled for its partner."""
    enabled = publishing.enabled_procedure_ids(session, point.partner_id)
    return [p for p in procedures.list_published(session) if p.id in enabled]


def offered_codes(session: Session, point_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    ids = list(point_ids)
    found: dict[uuid.UUID, set[str]] = {i: set() for i in ids}
    if not ids:
        return found
    rows = session.execute(
        select(PointProcedure.agent_point_id, Procedure.code)
        .join(Procedure, Procedure.id == PointProcedure.procedure_id)
        .where(PointProcedure.agent_point_id.in_(ids))
    )
    for point_id, code in rows:
        found[point_id].add(code)
    return found


def set_offered(session: Session, actor: Actor, point_id: uuid.UUID, codes: Iterable[str]) -> set[str]:
    """The point offers exactly these procedures from now on (the change is audited)."""
    point = managed_point(session, actor, point_id)
    allowed = {p.code: p for p in choosable(session, point)}
    wanted = {c.strip() for c in codes if c.strip()}
    unknown = sorted(wanted - set(allowed))
    if unknown:
        raise ValidationFailed(
            "Thủ tục không có trong danh mục được phép: %(codes)s",
            params={"codes": ", ".join(unknown)},
            field_errors={"procedures": N_("Có thủ tục không được phép chọn")},
        )
    current = session.scalars(select(PointProcedure).where(PointProcedure.agent_point_id == point.id)).all()
    by_id = {p.id: code for code, p in allowed.items()}
    before = {by_id.get(row.procedure_id, str(row.procedure_id)) for row in current}
    for row in current:
        if by_id.get(row.procedure_id) not in wanted:
            session.delete(row)
    for code in sorted(wanted - before):
        session.add(PointProcedure(partner_id=point.partner_id, agent_point_id=point.id, procedure_id=allowed[code].id))
    session.flush()
    if wanted != before:
        audit.record(
            session,
            "agent_point.procedures_changed",
            "agent_point",
            point.id,
            partner_id=point.partner_id,
            detail={"added": sorted(wanted - before), "removed": sorted(before - wanted)},
        )
    return wanted


@dataclass(frozen=True)
class PointSheet:
    """What the manager's page of one point shows."""

    point: AgentPoint
    closures: list[PointClosure]
    choosable: list[Procedure]
    offered: set[str]


def point_sheet(session: Session, actor: Actor, point_id: uuid.UUID) -> PointSheet:
    point = managed_point(session, actor, point_id)
    today = hours.hanoi_now().date()
    return PointSheet(
        point,
        hours.closures_of(session, [point.id], today)[point.id],
        choosable(session, point),
        offered_codes(session, [point.id])[point.id],
    )


@dataclass(frozen=True)
class PublicProcedure:
    procedure: Procedure
    points: list[AgentPoint]


def _plain(text: str) -> str:
    """Lower case without diacritics, so "khai sinh" finds "Đăng ký khai sinh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).casefold()
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def public_catalogue(session: Session, query: str = "") -> list[PublicProcedure]:
    """Every published procedure matching the search, with the approved points that offer it."""
    wanted = _plain(" ".join(query.split()))[:100]
    found = []
    for procedure in procedures.list_published(session):
        haystack = _plain(f"{procedure.code} {procedure.name} {procedure.field_name} {procedure.handled_by}")
        if wanted and not all(word in haystack for word in wanted.split()):
            continue
        found.append(PublicProcedure(procedure, []))
    if not found:
        return found
    by_id = {item.procedure.id: item for item in found}
    rows = session.execute(
        select(PointProcedure.procedure_id, AgentPoint)
        .join(AgentPoint, AgentPoint.id == PointProcedure.agent_point_id)
        .join(Partner, Partner.id == AgentPoint.partner_id)
        .where(
            PointProcedure.procedure_id.in_(list(by_id)),
            AgentPoint.status == AgentPointStatus.approved,
            Partner.status == PartnerStatus.active,
        )
        .order_by(AgentPoint.ward, AgentPoint.name)
    )
    for procedure_id, point in rows:
        by_id[procedure_id].points.append(point)
    return found
