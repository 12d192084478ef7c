"""VNPay's IPN: the one thing that marks a payment paid (reconciliation's querydr settles the same way).

Order, as VNPay's own IPN code does it: checksum and TmnCode (97), the payment by its
reference (01), the amount (04), the state (02), then the result is applied once (00).
The payment row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite's writers are
serial), so concurrent copies of one IPN queue behind each other and the later ones find
it settled (02). The raw message, the payment, the dossier's history and the audit entry
commit together; the answer is given only after the commit. Anything unexpected is 99,
which makes VNPay ask again later. Refused IPNs change nothing and go on the audit record.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.dossiers.models import Dossier, DossierEvent
from payments.gateways.vnpay import (
    CallbackRejected,
    IpnReply,
    PaymentOutcome,
    VerifiedCallback,
    VNPayClient,
)
from portal.core import audit
from portal.core.db import unit_of_work, utcnow
from portal.core.tenancy import Scope

from .checkout import log_message
from .models import MessageDirection, Payment, PaymentState

log = logging.getLogger(__name__)

IPN_ACTOR = "VNPay (IPN)"
PAID_NOTE = "Đã nộp lệ phí {amount} đồng qua VNPay"
#: What of a refused query goes on the record: enough to diagnose, bounded.
RECORDED_QUERY_CHARS = 2000


def ipn_scope(origin: str) -> Scope:
    return Scope.network("VNPay IPN: find the payment by its reference", actor_label=IPN_ACTOR, origin=origin)


def receive_ipn(raw_query: bytes, client: VNPayClient, *, origin: str) -> IpnReply:
    """Verify and apply one IPN in its own unit of work; the reply VNPay must get."""
    scope = ipn_scope(origin)
    try:
        callback = client.verify_callback(raw_query)
    except CallbackRejected as exc:
        _refuse(scope, raw_query, exc.reply, str(exc))
        return exc.reply
    try:
        with unit_of_work(scope) as session:
            reply = apply_ipn(session, callback, raw_query)
            if reply is IpnReply.ORDER_NOT_FOUND:
                session.rollback()
    except Exception:
        log.exception("VNPay IPN for %s could not be applied", callback.txn_ref)
        _refuse(scope, raw_query, IpnReply.UNKNOWN_ERROR, "unexpected error")
        return IpnReply.UNKNOWN_ERROR
    if reply is IpnReply.ORDER_NOT_FOUND:
        _refuse(scope, raw_query, reply, f"no payment {callback.txn_ref}")
    log.info("VNPay IPN %s: %s", callback.txn_ref, reply.rsp_code)
    return reply


def apply_ipn(session: Session, callback: VerifiedCallback, raw_query: bytes | str) -> IpnReply:
    """Apply a verified IPN in `session`'s unit of work (the caller commits)."""
    payment = lock_payment(session, callback.txn_ref)
    if payment is None:
        return IpnReply.ORDER_NOT_FOUND
    raw = raw_query.decode("utf-8", "replace") if isinstance(raw_query, bytes) else raw_query
    raw = raw.lstrip("?")
    fields = dict(callback.fields)
    if callback.amount_vnd != payment.amount_vnd:
        reply = IpnReply.INVALID_AMOUNT
    elif payment.state is not PaymentState.pending:
        reply = IpnReply.ALREADY_CONFIRMED
    else:
        reply = IpnReply.CONFIRMED
    log_message(session, payment, MessageDirection.received, "ipn", raw, fields, outcome=reply.rsp_code)
    if reply is not IpnReply.CONFIRMED:
        audit.record(
            session,
            "payment.ipn_refused",
            "payment",
            payment.id,
            partner_id=payment.partner_id,
            detail={"txn_ref": payment.txn_ref, "rsp_code": reply.rsp_code, "state": payment.state.value},
        )
        return reply
    settle(
        session,
        payment,
        callback.outcome,
        transaction_no=callback.transaction_no,
        bank_code=callback.bank_code,
        response_code=callback.response_code.value,
        paid_at=callback.pay_date,
        by=IPN_ACTOR,
    )
    return reply


def lock_payment(session: Session, txn_ref: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.txn_ref == txn_ref).with_for_update())


def settle(
    session: Session,
    payment: Payment,
    outcome: PaymentOutcome,
    *,
    transaction_no: str | None,
    bank_code: str | None,
    response_code: str | None,
    paid_at: datetime | None,
    by: str,
) -> bool:
    """Record a pending payment's result, with the dossier it settles. False: nothing to record (still pending)."""
    assert payment.state is PaymentState.pending
    if outcome is PaymentOutcome.PENDING:
        return False
    now = utcnow()
    payment.settled_at = now
    payment.transaction_no = transaction_no
    payment.bank_code = bank_code
    payment.response_code = response_code
    if outcome is PaymentOutcome.PAID:
        payment.state = PaymentState.paid
        payment.paid_at = paid_at or now
        dossier = session.get(Dossier, payment.dossier_id)
        assert dossier is not None
        session.add(
            DossierEvent(
                partner_id=dossier.partner_id,
                dossier_id=dossier.id,
                source="portal",
                state=dossier.state.value,
                actor=by,
                note=PAID_NOTE.format(amount=f"{payment.amount_vnd:,}".replace(",", ".")),
            )
        )
        dossier.updated_at = now
    else:
        payment.state = PaymentState.failed
    session.flush()
    audit.record(
        session,
        "payment.paid" if payment.state is PaymentState.paid else "payment.failed",
        "payment",
        payment.id,
        partner_id=payment.partner_id,
        detail={
            "txn_ref": payment.txn_ref,
            "amount_vnd": payment.amount_vnd,
            "transaction_no": transaction_no,
            "response_code": response_code,
            "by": by,
        },
    )
    return True


def _refuse(scope: Scope, raw_query: bytes, reply: IpnReply, problem: str) -> None:
    text = raw_query.decode("utf-8", "replace")
    log.warning("VNPay IPN refused with %s: %s", reply.rsp_code, problem)
    try:
        audit.record_refusal(
            None,
            "payment.ipn_refused",
            "vnpay_ipn",
            scope=scope,
            detail={
                "rsp_code": reply.rsp_code,
                "problem": problem[:300],
                "query_bytes": len(raw_query),
                "query": text[:RECORDED_QUERY_CHARS],
            },
        )
    except Exception:
        log.exception("could not record a refused VNPay IPN")
