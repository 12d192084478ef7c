"""Refunds: a paid fee given back, in full or in part, after a center admin approves, through VNPay's refund API.

A refund is asked for (by whoever may see the dossier, or by reconciliation when the city
refuses or stops a paid dossier), approved or rejected by a center admin, then sent to
VNPay by a task with no transaction open during the call; VNPay's answer is recorded in
one unit of work with the payment's new state and the dossier's history. What was paid
bounds everything: the payment row is locked while a request is checked, and what is
already refunded plus every request still open can never exceed the amount paid.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers.models import CityStatus, Dossier, DossierEvent
from agents.policy import Permission
from agents.staff.actor import Actor
from payments.gateways.vnpay import GatewayProtocolError, RefundKind, RefundResponseCode, VNPayClient, plain_text
from portal.core import audit
from portal.core.celery_app import enqueue
from portal.core.db import on_commit, unit_of_work, utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.tenancy import Scope, current_scope

from . import rules
from .checkout import log_message
from .models import MessageDirection, Payment, PaymentState, Refund, RefundState

log = logging.getLogger(__name__)

OPEN = (RefundState.requested, RefundState.approved)
REFUNDED_NOTE = "Đã hoàn {amount} đồng qua VNPay"
AUTOMATIC = "Cổng đại lý (hoàn phí khi hồ sơ bị từ chối hoặc dừng)"


class RefundNotAllowed(Conflict):
    code = "refund_not_allowed"


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _lock(session: Session, payment_id: uuid.UUID) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())


def open_requests_vnd(session: Session, payment_id: uuid.UUID) -> int:
    amounts = session.scalars(select(Refund.amount_vnd).where(Refund.payment_id == payment_id, Refund.state.in_(OPEN)))
    return sum(amounts)


def request_refund(
    session: Session, actor: Actor | None, payment_id: uuid.UUID, *, amount_vnd: int | None, reason: str, by: str = ""
) -> Refund:
    """Ask for `amount_vnd` (None: all that is left) to be given back. `actor` None: the portal itself."""
    payment = _lock(session, payment_id)
    if payment is None:
        raise NotFound("Không tìm thấy giao dịch thanh toán")
    dossier = session.get(Dossier, payment.dossier_id)
    assert dossier is not None
    if actor is not None and not policy.can(
        actor, Permission.request_refunds, partner_id=payment.partner_id, point_id=payment.agent_point_id
    ):
        raise NotFound("Không tìm thấy giao dịch thanh toán")
    if dossier.city_status is None or CityStatus(dossier.city_status) not in rules.REFUNDABLE_CITY_STATUSES:
        raise RefundNotAllowed("Chỉ hoàn phí khi hồ sơ bị từ chối hoặc dừng xử lý")
    left = rules.refundable_vnd(payment) - open_requests_vnd(session, payment.id)
    amount = left if amount_vnd is None else amount_vnd
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed("Số tiền hoàn phải là số nguyên dương", field_errors={"amount_vnd": "positive"})
    if amount > left:
        raise RefundNotAllowed(
            "Số tiền hoàn vượt quá số tiền còn có thể hoàn (%(left)s đồng)", params={"left": _vnd(max(left, 0))}
        )
    if not reason.strip():
        raise ValidationFailed("Vui lòng ghi lý do hoàn phí", field_errors={"reason": "required"})
    refund = Refund(
        partner_id=payment.partner_id,
        payment_id=payment.id,
        amount_vnd=amount,
        reason=reason.strip()[:1000],
        requested_by=(actor.label if actor is not None else by or AUTOMATIC)[:200],
    )
    session.add(refund)
    session.flush()
    audit.record(
        session,
        "refund.requested",
        "refund",
        refund.id,
        partner_id=refund.partner_id,
        detail={"txn_ref": payment.txn_ref, "amount_vnd": amount, "reason": refund.reason[:200]},
    )
    return refund


def _decidable(session: Session, actor: Actor, refund_id: uuid.UUID) -> Refund:
    policy.require(actor, Permission.approve_refunds)
    refund = session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    if refund is None:
        raise NotFound("Không tìm thấy yêu cầu hoàn tiền")
    if refund.state is not RefundState.requested:
        raise RefundNotAllowed("Yêu cầu hoàn tiền này đã được xử lý")
    return refund


def approve_refund(session: Session, actor: Actor, refund_id: uuid.UUID) -> Refund:
    """A center admin approves: the refund is sent to VNPay after the commit (task payments.send_refund)."""
    refund = _decidable(session, actor, refund_id)
    refund.state = RefundState.approved
    refund.decided_by = actor.label[:200]
    refund.decided_at = utcnow()
    session.flush()
    audit.record(session, "refund.approved", "refund", refund.id, partner_id=refund.partner_id)
    scope = Scope.partner(refund.partner_id, actor_id=actor.account_id, actor_label=actor.label, origin="worker")
    on_commit(session, lambda: enqueue("payments.send_refund", [str(refund.id), str(refund.partner_id)], scope=scope))
    return refund


def reject_refund(session: Session, actor: Actor, refund_id: uuid.UUID, *, reason: str) -> Refund:
    refund = _decidable(session, actor, refund_id)
    refund.state = RefundState.rejected
    refund.decided_by = actor.label[:200]
    refund.decided_at = utcnow()
    session.flush()
    audit.record(
        session, "refund.rejected", "refund", refund.id, partner_id=refund.partner_id, detail={"reason": reason[:200]}
    )
    return refund


@dataclass(frozen=True)
class _ToSend:
    refund_id: uuid.UUID
    amount_vnd: int
    kind: RefundKind
    txn_ref: str
    create_date: str
    transaction_no: str | None
    created_by: str
    request_id: str


def send_refund(refund_id: uuid.UUID, client: VNPayClient, *, scope: Scope) -> RefundState:
    """Send an approved refund to VNPay and record its answer. Safe to repeat: only `approved` ones are sent.

    Raises GatewayUnavailable when VNPay did not answer (the task retries; the refund stays approved).

    The refund's `vnp_RequestId` is fixed (and committed) before the first send, so every retry is
    the same request: when VNPay applied a refund whose answer was lost, the retry gets VNPay's `94`
    (duplicate request) instead of a second refund. A `94` leaves the refund `approved`, on the
    record and as an ALERT: the outcome is VNPay's to tell (the daily comparison lists it).
    """
    with unit_of_work(scope) as session:
        refund = session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
        if refund is None or refund.state is not RefundState.approved:
            return refund.state if refund is not None else RefundState.refused
        if refund.request_id is None:
            refund.request_id = uuid.uuid4().hex
        payment = session.get(Payment, refund.payment_id)
        assert payment is not None
        whole = refund.amount_vnd == payment.amount_vnd and payment.refunded_vnd == 0
        to_send = _ToSend(
            refund.id,
            refund.amount_vnd,
            RefundKind.FULL if whole else RefundKind.PARTIAL,
            payment.txn_ref,
            payment.gateway_create_date,
            payment.transaction_no,
            plain_text(refund.decided_by or "center admin", limit=100) or "center admin",
            refund.request_id,
        )
    try:
        result = client.refund(
            txn_ref=to_send.txn_ref,
            amount_vnd=to_send.amount_vnd,
            kind=to_send.kind,
            transaction_date=to_send.create_date,
            created_by=to_send.created_by,
            transaction_no=to_send.transaction_no,
            request_id=to_send.request_id,
        )
    except GatewayProtocolError as exc:
        log.error("ALERT refund %s: VNPay's answer cannot be trusted: %s", refund_id, exc)
        return RefundState.approved
    with unit_of_work(scope) as session:
        refund = session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
        assert refund is not None
        if refund.state is not RefundState.approved:
            return refund.state
        payment = _lock(session, refund.payment_id)
        assert payment is not None
        request, response = dict(result.exchange.request), dict(result.exchange.response)
        log_message(session, payment, MessageDirection.sent, "refund", _json(request), request)
        log_message(
            session,
            payment,
            MessageDirection.received,
            "refund_answer",
            _json(response),
            response,
            result.response_code.value,
        )
        refund.attempts += 1
        refund.request_id = str(request.get("vnp_RequestId", ""))[:32] or None
        refund.response_code = result.response_code.value
        if result.response_code is RefundResponseCode.DUPLICATE_REQUEST:
            session.flush()
            audit.record(
                session,
                "refund.outcome_unknown",
                "refund",
                refund.id,
                partner_id=refund.partner_id,
                detail={"txn_ref": payment.txn_ref, "request_id": refund.request_id, "response_code": "94"},
            )
            log.error(
                "ALERT refund %s: VNPay already has request %s (its answer was lost); not sent again, check at VNPay",
                refund.id,
                refund.request_id,
            )
            return refund.state
        if not result.accepted:
            refund.state = RefundState.refused
            session.flush()
            audit.record(
                session,
                "refund.refused_by_gateway",
                "refund",
                refund.id,
                partner_id=refund.partner_id,
                detail={"response_code": result.response_code.value, "message": result.message[:200]},
            )
            log.error("ALERT refund %s refused by VNPay: %s %s", refund.id, result.response_code.value, result.message)
            return refund.state
        total = payment.refunded_vnd + refund.amount_vnd
        if total > payment.amount_vnd:  # cannot happen (requests are bounded); never record it if it did
            raise RuntimeError(f"refund {refund.id} would exceed what payment {payment.txn_ref} paid")
        refund.state = RefundState.accepted
        payment.refunded_vnd = total
        payment.state = rules.state_after_refund(payment, total)
        dossier = session.get(Dossier, payment.dossier_id)
        assert dossier is not None
        session.add(
            DossierEvent(
                partner_id=dossier.partner_id,
                dossier_id=dossier.id,
                source="portal",
                state=dossier.state.value,
                actor=refund.decided_by or AUTOMATIC,
                note=REFUNDED_NOTE.format(amount=_vnd(refund.amount_vnd)),
            )
        )
        session.flush()
        audit.record(
            session,
            "refund.accepted",
            "refund",
            refund.id,
            partner_id=refund.partner_id,
            detail={"txn_ref": payment.txn_ref, "amount_vnd": refund.amount_vnd, "state": payment.state.value},
        )
        return refund.state


def propose_refunds(session: Session) -> list[Refund]:
    """Paid dossiers the city refused or stopped get a full refund request, once (the admin still decides)."""
    scope = current_scope(session)
    assert scope.all_partners
    candidates = session.scalars(
        select(Payment)
        .join(Dossier, Dossier.id == Payment.dossier_id)
        .where(
            Payment.state.in_((PaymentState.paid, PaymentState.partially_refunded)),
            Dossier.city_status.in_([s.value for s in rules.REFUNDABLE_CITY_STATUSES]),
        )
    )
    proposed = []
    for payment in list(candidates):
        asked = session.scalar(select(Refund.id).where(Refund.payment_id == payment.id).limit(1))
        if asked is not None:
            continue
        proposed.append(
            request_refund(
                session, None, payment.id, amount_vnd=None, reason="Hồ sơ bị từ chối hoặc dừng xử lý", by=AUTOMATIC
            )
        )
    return proposed


def pending_requests(session: Session, actor: Actor) -> list[tuple[Refund, Payment]]:
    policy.require(actor, Permission.approve_refunds)
    rows = session.execute(
        select(Refund, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.state == RefundState.requested)
        .order_by(Refund.created_at)
    )
    return [(r, p) for r, p in rows]


def _json(body: Mapping[str, object]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
