"""Partners: an application, the center's approval (its first manager invited), suspension with a reason,
restoration, the end; every step audited. A partner files only while approved and under contract."""

from __future__ import annotations

import re
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner, PartnerKind, PartnerStatus
from agents.policy import Permission
from agents.procedures.models import vietnam_today
from agents.staff import lifecycle, sessions
from agents.staff.actor import Actor
from agents.staff.models import Invitation, Role
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_

CODE_PATTERN = re.compile(r"^[A-Z0-9_-]{2,32}$")
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

# The onboarding workflow (decision 0026): who may follow which status.
TRANSITIONS: dict[PartnerStatus, frozenset[PartnerStatus]] = {
    PartnerStatus.applied: frozenset({PartnerStatus.active, PartnerStatus.ended}),
    PartnerStatus.active: frozenset({PartnerStatus.suspended, PartnerStatus.ended}),
    PartnerStatus.suspended: frozenset({PartnerStatus.active, PartnerStatus.ended}),
    PartnerStatus.ended: frozenset(),
}
STATUS_LABELS = {
    PartnerStatus.applied: N_("Đã đăng ký"),
    PartnerStatus.active: N_("Đã phê duyệt"),
    PartnerStatus.suspended: N_("Tạm dừng"),
    PartnerStatus.ended: N_("Đã chấm dứt"),
}


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.name)))


def get_partner(session: Session, partner_id: uuid.UUID) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    return partner


def onboard(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    manager_email: str,
    manager_name: str,
    **more: str,
) -> tuple[Partner, Invitation, str]:
    """Record an application and approve it at once (the demo and older callers); the pages use the two steps."""
    partner = apply(
        session, actor, code=code, name=name, kind=kind, manager_email=manager_email, manager_name=manager_name, **more
    )
    invitation, token = approve(session, actor, partner.id)
    return partner, invitation, token


def check_tax_code(value: str) -> str | None:
    """The message for a tax code that is not 10 digits or 10-3 (mã số thuế; a branch's has a 3-digit suffix)."""
    if not TAX_CODE.fullmatch(value):
        return N_("Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu - và 3 chữ số (đơn vị phụ thuộc)")
    return None


def _day(value: str | date | None, field: str, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = N_("Ngày không hợp lệ (YYYY-MM-DD)")
        return None


def apply(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    kind: str,
    manager_email: str,
    manager_name: str,
    legal_name: str = "",
    tax_code: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    contract_start: str | date | None = None,
    contract_end: str | date | None = None,
) -> Partner:
    """A company's application to run agent points, recorded by the center: status `applied`, nobody invited yet."""
    policy.require(actor, Permission.manage_partners)
    code = code.strip().upper()
    tax_code = tax_code.strip()
    errors: dict[str, str] = {}
    if not CODE_PATTERN.match(code):
        errors["code"] = N_("Mã gồm 2–32 chữ in hoa, số, - hoặc _")
    elif session.scalar(select(Partner.id).where(Partner.code == code)):
        errors["code"] = N_("Mã đối tác đã tồn tại")
    if not name.strip():
        errors["name"] = N_("Bắt buộc nhập")
    if kind not in {k.value for k in PartnerKind}:
        errors["kind"] = N_("Giá trị không hợp lệ")
    if tax_code:
        problem = check_tax_code(tax_code)
        if problem:
            errors["tax_code"] = problem
        elif session.scalar(select(Partner.id).where(Partner.tax_code == tax_code)):
            errors["tax_code"] = N_("Mã số thuế đã thuộc một đối tác khác")
    else:
        errors["tax_code"] = N_("Bắt buộc nhập")
    if contact_email.strip() and not EMAIL.fullmatch(contact_email.strip()):
        errors["contact_email"] = N_("Email không hợp lệ")
    if not EMAIL.fullmatch(manager_email.strip()):
        errors["manager_email"] = N_("Email không hợp lệ")
    if not manager_name.strip():
        errors["manager_name"] = N_("Bắt buộc nhập")
    start = _day(contract_start, "contract_start", errors)
    end = _day(contract_end, "contract_end", errors)
    if start is None and "contract_start" not in errors:
        errors["contract_start"] = N_("Bắt buộc nhập")
    if start and end and end < start:
        errors["contract_end"] = N_("Ngày kết thúc hợp đồng không được trước ngày bắt đầu")
    limits = {
        "legal_name": (legal_name, 300),
        "contact_name": (contact_name, 200),
        "contact_phone": (contact_phone, 20),
    }
    for field, (value, limit) in limits.items():
        if len(value.strip()) > limit:
            errors[field] = N_("Quá dài")
    if errors:
        raise ValidationFailed("Thông tin đối tác chưa hợp lệ", field_errors=errors)
    partner = Partner(
        code=code,
        name=name.strip(),
        kind=PartnerKind(kind),
        status=PartnerStatus.applied,
        legal_name=legal_name.strip() or name.strip(),
        tax_code=tax_code,
        contact_name=contact_name.strip() or None,
        contact_email=contact_email.strip() or None,
        contact_phone=contact_phone.strip() or None,
        contract_start=start,
        contract_end=end,
        manager_email=manager_email.strip(),
        manager_name=manager_name.strip(),
    )
    session.add(partner)
    session.flush()
    audit.record(
        session,
        "partner.applied",
        "partner",
        partner.id,
        partner_id=partner.id,
        detail={"code": code, "name": partner.name, "tax_code": tax_code, "kind": kind},
    )
    return partner


def _get(session: Session, actor: Actor, partner_id: uuid.UUID) -> Partner:
    policy.require(actor, Permission.manage_partners)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    return partner


def _move(
    session: Session, partner: Partner, to: PartnerStatus, action: str, reason: str = "", **detail: object
) -> None:
    allowed = TRANSITIONS[partner.status]
    if to not in allowed:
        raise InvalidTransition(
            "Đối tác đang ở trạng thái %(status)s, không thể chuyển sang %(to)s",
            params={"status": STATUS_LABELS[partner.status], "to": STATUS_LABELS[to]},
        )
    previous = partner.status
    partner.status = to
    partner.status_reason = reason.strip() or None
    partner.decided_at = utcnow()
    audit.record(
        session,
        f"partner.{action}",
        "partner",
        partner.id,
        partner_id=partner.id,
        detail={"from": previous.value, "reason": reason.strip(), **detail},
    )


def approve(session: Session, actor: Actor, partner_id: uuid.UUID) -> tuple[Invitation, str]:
    """Approve an application; its first manager is invited (the token is returned once, for the link)."""
    partner = _get(session, actor, partner_id)
    _move(session, partner, PartnerStatus.active, "approved")
    if not partner.manager_email or not partner.manager_name:
        raise ValidationFailed(
            "Hồ sơ đăng ký chưa có người quản lý để mời", field_errors={"manager_email": N_("Bắt buộc nhập")}
        )
    return lifecycle.invite(
        session,
        actor,
        email=partner.manager_email,
        full_name=partner.manager_name,
        role=Role.partner_manager,
        partner_id=partner.id,
    )


def _required_reason(reason: str) -> None:
    if not reason.strip():
        raise ValidationFailed("Cần ghi lý do", field_errors={"reason": N_("Bắt buộc nhập")})
    if len(reason) > 1000:
        raise ValidationFailed("Lý do quá dài", field_errors={"reason": N_("Quá dài")})


def suspend(session: Session, actor: Actor, partner_id: uuid.UUID, reason: str) -> Partner:
    """Suspend: its people see the reason when they try to sign in; their sessions end now."""
    _required_reason(reason)
    partner = _get(session, actor, partner_id)
    ended = (
        sessions.revoke_for_partner(session, partner.id, "partner_suspended")
        if partner.status is PartnerStatus.active
        else 0
    )
    _move(session, partner, PartnerStatus.suspended, "suspended", reason, sessions_ended=ended)
    return partner


def restore(session: Session, actor: Actor, partner_id: uuid.UUID) -> Partner:
    partner = _get(session, actor, partner_id)
    previous_reason = partner.status_reason or ""
    _move(session, partner, PartnerStatus.active, "restored", previous_reason=previous_reason)
    partner.status_reason = None
    return partner


def end(session: Session, actor: Actor, partner_id: uuid.UUID, reason: str, *, today: date | None = None) -> Partner:
    """End the partnership (or turn an application down) for good; the contract ends today at the latest."""
    _required_reason(reason)
    partner = _get(session, actor, partner_id)
    day = today or vietnam_today()
    ended = sessions.revoke_for_partner(session, partner.id, "partner_suspended")
    _move(session, partner, PartnerStatus.ended, "ended", reason, sessions_ended=ended)
    if partner.contract_end is None or partner.contract_end > day:
        partner.contract_end = day
    return partner


def require_may_file(session: Session, partner_id: uuid.UUID, today: date) -> None:
    """A partner files while approved and under contract: the contract's last day still files, the next does not."""
    partner = session.get(Partner, partner_id)
    if partner is None or partner.status is not PartnerStatus.active:
        raise PermissionDenied("Đối tác không còn hoạt động; không thể nộp hồ sơ")
    if partner.contract_start is not None and today < partner.contract_start:
        raise PermissionDenied(
            "Hợp đồng của đối tác bắt đầu từ ngày %(day)s", params={"day": partner.contract_start.isoformat()}
        )
    if partner.contract_end is not None and today > partner.contract_end:
        raise PermissionDenied(
            "Hợp đồng của đối tác đã kết thúc ngày %(day)s; không thể nộp hồ sơ mới",
            params={"day": partner.contract_end.isoformat()},
        )


def set_status(
    session: Session, actor: Actor, partner_id: uuid.UUID, status: PartnerStatus, reason: str = ""
) -> Partner:
    """Suspend (reason required) or restore: the network page's one form."""
    if status is PartnerStatus.suspended:
        if not reason.strip():
            policy.require(actor, Permission.manage_partners)
            raise ValidationFailed("Cần ghi lý do tạm dừng", field_errors={"reason": N_("Bắt buộc nhập")})
        return suspend(session, actor, partner_id, reason)
    if status is PartnerStatus.active:
        partner = _get(session, actor, partner_id)
        if partner.status is PartnerStatus.active:
            raise Conflict("Đối tác đã ở trạng thái này")
        if partner.status is PartnerStatus.applied:
            approve(session, actor, partner_id)
            return partner
        return restore(session, actor, partner_id)
    if status is PartnerStatus.ended:
        return end(session, actor, partner_id, reason)
    raise InvalidTransition("Không thể chuyển đối tác về trạng thái đăng ký")
