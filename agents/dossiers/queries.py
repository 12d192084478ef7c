"""Reading dossiers: who may see which, views of citizens' data on the record, public tracking."""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers import rules
from agents.dossiers.models import CityStatus, Dossier
from agents.notifications import outbox
from agents.notifications.models import Notification
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.fees import FeeQuote
from agents.procedures.models import ProcedureVersion
from agents.staff.actor import Actor
from agents.staff.models import Account
from portal.core import audit
from portal.core.crypto import blind_index
from portal.core.errors import NotFound
from portal.core.tenancy import current_scope

log = logging.getLogger(__name__)


def get_for_actor(session: Session, actor: Actor, dossier_id: uuid.UUID) -> Dossier:
    """A dossier the actor may see: their own partner (by scope), and for point roles their points."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ")
    if not policy.can(actor, Permission.see_dossiers, partner_id=dossier.partner_id, point_id=dossier.agent_point_id):
        raise NotFound("Không tìm thấy hồ sơ")  # outside their reach: exactly like one that does not exist
    return dossier


@dataclass(frozen=True)
class DossierView:
    """A dossier with what its pages show next to it."""

    dossier: Dossier
    procedure: ProcedureVersion  # the version it was filed under, never today's
    point: AgentPoint
    staff: Account | None

    @property
    def fee(self) -> FeeQuote:
        return fee_of(self.procedure, self.dossier)

    def context(self) -> dict[str, Any]:
        return {
            "dossier": self.dossier,
            "procedure": self.procedure,
            "fee": self.fee,
            "point": self.point,
            "staff": self.staff,
        }


def fee_of(version: ProcedureVersion, dossier: Dossier) -> FeeQuote:
    """What the dossier costs: its version's fee rules, on its form, on the day it was filed (online: at a point)."""
    return version.quote_filed(dossier.form_data, dossier.submitted_at)


def view_of(session: Session, dossier: Dossier) -> DossierView:
    version = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    assert point is not None
    return DossierView(dossier, version, point, session.get(Account, dossier.staff_account_id))


def view_personal_data(session: Session, actor: Actor, dossier_id: uuid.UUID) -> Dossier:
    """As get_for_actor, and the view of the citizen's data goes on the record."""
    dossier = get_for_actor(session, actor, dossier_id)
    audit.record(
        session,
        "dossier.personal_data_viewed",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"tracking_code": dossier.tracking_code},
    )
    return dossier


def list_for_actor(session: Session, actor: Actor, limit: int = 100) -> list[Dossier]:
    scope = current_scope(session)
    assert scope.partner_id is not None
    query = select(Dossier).order_by(Dossier.submitted_at.desc()).limit(limit)
    points = policy.points_for(actor, Permission.see_dossiers, scope.partner_id)
    if points is not None:
        query = query.where(Dossier.agent_point_id.in_(points or {uuid.uuid4()}))
    return list(session.scalars(query))


def record_list_view(session: Session, rows: list[Dossier]) -> None:
    """A list shows owners' names: the view goes on the record, naming the dossiers shown."""
    if not rows:
        return
    audit.record(
        session,
        "dossier.list_viewed",
        "dossier",
        None,
        detail={"count": len(rows), "tracking_codes": [d.tracking_code for d in rows]},
    )


def track(session: Session, tracking_code: str, phone: str) -> Dossier:
    """Public look-up: the tracking code and the owner's phone must both match.

    One answer for "no such code" and "wrong phone", so codes cannot be probed.
    """
    code = tracking_code.strip().upper()
    dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == code))
    if dossier is None or not hmac.compare_digest(dossier.owner_phone_index, blind_index(rules.normalise_phone(phone))):
        raise NotFound("Không tìm thấy hồ sơ với mã và số điện thoại này")
    return dossier


def city_reason(dossier: Dossier) -> str | None:
    """The city's own words when it refused (3) or stopped (8) the dossier: the note of that report."""
    if dossier.city_status not in (CityStatus.refused, CityStatus.stopped):
        return None
    notes = [e.note for e in dossier.timeline if e.source == "city" and e.city_status == dossier.city_status]
    return (notes[-1] if notes else "") or None


def notifications_of(session: Session, dossier_id: uuid.UUID) -> list[Notification]:
    """The messages sent (or being sent) to the citizen about one dossier, oldest first."""
    return outbox.for_dossier(session, dossier_id)
