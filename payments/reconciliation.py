"""Reconciliation: ask VNPay (querydr) about payments still pending, settle them from its answer, close expired ones.

An IPN can be lost, refused by a bug, or never sent; VNPay's transaction query is the
second way to learn a result. No transaction is held open while VNPay is asked: the
payment is read, VNPay answers, then one unit of work locks the row, logs both messages
and settles it exactly as the IPN would (`confirmation.settle`), unless an IPN got there
first. A payment whose page has closed and that VNPay knows as unpaid (or not at all) is
expired. An answer reconciliation cannot settle alone (refund states, suspected fraud, a
different amount) is logged for a person and changes nothing.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments.gateways.vnpay import GatewayProtocolError, GatewayUnavailable, PaymentOutcome, QueryOutcome, VNPayClient
from portal.core import audit
from portal.core.db import read_only, unit_of_work, utcnow
from portal.core.tenancy import Scope

from .checkout import log_message
from .confirmation import lock_payment, settle
from .models import MessageDirection, Payment, PaymentState

log = logging.getLogger(__name__)

RECONCILER = "Cổng đại lý (đối soát VNPay)"


class Reconciled(str, enum.Enum):
    paid = "paid"
    failed = "failed"
    expired = "expired"
    still_pending = "still_pending"
    already_settled = "already_settled"  # an IPN (or another run) settled it meanwhile
    needs_review = "needs_review"
    unavailable = "unavailable"  # VNPay did not answer; the next run asks again


@dataclass(frozen=True)
class Due:
    payment_id: uuid.UUID
    txn_ref: str
    create_date: str


def reconciler_scope(origin: str = "worker") -> Scope:
    return Scope.network("reconciliation: pending VNPay payments", actor_label=RECONCILER, origin=origin)


def due_for_check(session: Session, *, now: datetime, older_than: timedelta, limit: int = 200) -> list[Due]:
    """Pending payments started at least `older_than` ago, the least recently checked first."""
    rows = session.execute(
        select(Payment.id, Payment.txn_ref, Payment.gateway_create_date)
        .where(Payment.state == PaymentState.pending, Payment.created_at <= now - older_than)
        .order_by(Payment.last_checked_at.is_not(None), Payment.last_checked_at, Payment.created_at)
        .limit(limit)
    )
    return [Due(r.id, r.txn_ref, r.gateway_create_date) for r in rows]


def reconcile_due(
    client: VNPayClient, *, older_than: timedelta, now: datetime | None = None, scope: Scope | None = None
) -> dict[str, Reconciled]:
    """One reconciliation run: every due payment, each in its own unit of work. Returns txn_ref -> outcome."""
    scope = scope or reconciler_scope()
    moment = now or utcnow()
    with read_only(scope) as session:
        due = due_for_check(session, now=moment, older_than=older_than)
    return {item.txn_ref: reconcile_payment(item, client, scope=scope, now=moment) for item in due}


def reconcile_payment(due: Due, client: VNPayClient, *, scope: Scope, now: datetime | None = None) -> Reconciled:
    try:
        result = client.query_transaction(txn_ref=due.txn_ref, transaction_date=due.create_date)
    except GatewayUnavailable as exc:
        log.warning("reconciliation: VNPay did not answer about %s: %s", due.txn_ref, exc)
        return Reconciled.unavailable
    except GatewayProtocolError as exc:
        log.error("ALERT reconciliation: VNPay's answer about %s cannot be trusted: %s", due.txn_ref, exc)
        return Reconciled.needs_review
    moment = now or utcnow()
    with unit_of_work(scope) as session:
        payment = lock_payment(session, due.txn_ref)
        if payment is None:
            return Reconciled.already_settled
        request, response = dict(result.exchange.request), dict(result.exchange.response)
        log_message(session, payment, MessageDirection.sent, "querydr", _json(request), request)
        payment.last_checked_at = moment
        if payment.state is not PaymentState.pending:
            log_message(
                session, payment, MessageDirection.received, "querydr_answer", _json(response), response, "settled"
            )
            return Reconciled.already_settled
        outcome = _decide(payment, result.outcome, result.amount_vnd, moment)
        log_message(
            session, payment, MessageDirection.received, "querydr_answer", _json(response), response, outcome.value
        )
        if outcome in (Reconciled.paid, Reconciled.failed):
            settle(
                session,
                payment,
                PaymentOutcome.PAID if outcome is Reconciled.paid else PaymentOutcome.FAILED,
                transaction_no=result.transaction_no,
                bank_code=result.bank_code,
                response_code=result.transaction_status.value if result.transaction_status else None,
                paid_at=result.pay_date,
                by=RECONCILER,
            )
        elif outcome is Reconciled.expired:
            payment.state = PaymentState.expired
            payment.settled_at = moment
            session.flush()
            audit.record(
                session,
                "payment.expired",
                "payment",
                payment.id,
                partner_id=payment.partner_id,
                detail={"txn_ref": payment.txn_ref, "vnpay": result.outcome.value},
            )
        elif outcome is Reconciled.needs_review:
            log.error("ALERT reconciliation: %s needs a person (VNPay: %s)", payment.txn_ref, result.outcome.value)
        return outcome


def _decide(payment: Payment, answer: QueryOutcome, amount_vnd: int | None, now: datetime) -> Reconciled:
    if answer is QueryOutcome.PAID:
        return Reconciled.paid if amount_vnd == payment.amount_vnd else Reconciled.needs_review
    if answer is QueryOutcome.FAILED:
        return Reconciled.failed
    if answer in (QueryOutcome.PENDING, QueryOutcome.NOT_FOUND):
        return Reconciled.expired if now >= payment.expires_at else Reconciled.still_pending
    if answer is QueryOutcome.NOT_ANSWERED:
        return Reconciled.unavailable
    return Reconciled.needs_review


def _json(body: Mapping[str, object]) -> str:
    import json

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
