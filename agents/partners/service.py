"""Partners: the center onboards them, suspends them with a reason, reinstates them."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner, PartnerKind, PartnerStatus
from agents.policy import Permission
from agents.staff import lifecycle, sessions
from agents.staff.actor import Actor
from agents.staff.models import Invitation, Role
from portal.core import audit
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_

CODE_PATTERN = re.compile(r"^[A-Z0-9_-]{2,32}$")


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.name)))


def onboard(
    session: Session, actor: Actor, *, code: str, name: str, kind: str, manager_email: str, manager_name: str
) -> tuple[Partner, Invitation, str]:
    """Create a partner and invite its first manager (token returned once). Network scope."""
    policy.require(actor, Permission.manage_partners)
    code = code.strip().upper()
    errors: dict[str, str] = {}
    if not CODE_PATTERN.match(code):
        errors["code"] = N_("Mã gồm 2–32 chữ in hoa, số, - hoặc _")
    elif session.scalar(select(Partner.id).where(Partner.code == code)):
        errors["code"] = N_("Mã đối tác đã tồn tại")
    if not name.strip():
        errors["name"] = N_("Bắt buộc nhập")
    if kind not in {k.value for k in PartnerKind}:
        errors["kind"] = N_("Giá trị không hợp lệ")
    if errors:
        raise ValidationFailed("Thông tin đối tác chưa hợp lệ", field_errors=errors)
    partner = Partner(code=code, name=name.strip(), kind=PartnerKind(kind))
    session.add(partner)
    session.flush()
    audit.record(
        session,
        "partner.onboarded",
        "partner",
        partner.id,
        partner_id=partner.id,
        detail={"code": code, "name": partner.name},
    )
    invitation, token = lifecycle.invite(
        session, actor, email=manager_email, full_name=manager_name, role=Role.partner_manager, partner_id=partner.id
    )
    return partner, invitation, token


def set_status(
    session: Session, actor: Actor, partner_id: uuid.UUID, status: PartnerStatus, reason: str = ""
) -> Partner:
    """Suspend (reason required: its people see it when they try to sign in) or reinstate."""
    policy.require(actor, Permission.manage_partners)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    if status is PartnerStatus.suspended and not reason.strip():
        raise ValidationFailed("Cần ghi lý do tạm dừng", field_errors={"reason": N_("Bắt buộc nhập")})
    if partner.status is status:
        raise Conflict("Đối tác đã ở trạng thái này")
    partner.status = status
    partner.status_reason = reason.strip() or None
    detail: dict[str, object] = {"reason": reason.strip()}
    if status is PartnerStatus.suspended:
        detail["sessions_ended"] = sessions.revoke_for_partner(session, partner.id, "partner_suspended")
    audit.record(session, f"partner.{status.value}", "partner", partner.id, partner_id=partner.id, detail=detail)
    return partner
