"""Settlement: per partner, point, day and procedure, what was collected, refunded and kept; and the daily
comparison of our records with the gateway's.

Days are Vietnam's calendar days (VNPay's `vnp_PayDate` is GMT+7). Money is counted on the
day it moved: a payment on the day it was paid, a refund on the day VNPay accepted it. The
unit's scope decides whose money is in it (a partner's manager: their partner; the center:
everyone).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.procedures.models import Procedure

from .models import Payment, PaymentState, Refund, RefundState
from .rules import COLLECTED

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class SettlementRow:
    day: date
    partner_code: str
    partner_name: str
    point_code: str
    point_name: str
    procedure_code: str
    procedure_name: str
    payments: int = 0
    collected_vnd: int = 0
    refunded_vnd: int = 0

    @property
    def net_vnd(self) -> int:
        return self.collected_vnd - self.refunded_vnd


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, VN).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, VN).astimezone(UTC)
    return start, end


def settlement(session: Session, first: date, last: date) -> list[SettlementRow]:
    """Rows for every (day, partner, point, procedure) with money moving between `first` and `last` (inclusive)."""
    start, end = _bounds(first, last)
    paid = list(
        session.scalars(
            select(Payment).where(Payment.state.in_(COLLECTED), Payment.paid_at >= start, Payment.paid_at < end)
        )
    )
    refunded = list(
        session.execute(
            select(Refund, Payment)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.state == RefundState.accepted, Refund.updated_at >= start, Refund.updated_at < end)
        )
    )
    names = _names(session, [p for p in paid] + [p for _, p in refunded])
    rows: dict[tuple[Any, ...], SettlementRow] = {}

    def row(day: date, payment: Payment) -> SettlementRow:
        key = (day, payment.partner_id, payment.agent_point_id, payment.procedure_id)
        if key not in rows:
            partner, point, procedure = (
                names[payment.partner_id],
                names[payment.agent_point_id],
                names[payment.procedure_id],
            )
            rows[key] = SettlementRow(day, *partner, *point, *procedure)
        return rows[key]

    for payment in paid:
        assert payment.paid_at is not None
        r = row(payment.paid_at.astimezone(VN).date(), payment)
        r.payments += 1
        r.collected_vnd += payment.amount_vnd
    for refund, payment in refunded:
        row(refund.updated_at.astimezone(VN).date(), payment).refunded_vnd += refund.amount_vnd
    return sorted(rows.values(), key=lambda r: (r.day, r.partner_name, r.point_name, r.procedure_code))


def _names(session: Session, payments: Iterable[Payment]) -> dict[uuid.UUID, tuple[str, str]]:
    partner_ids, point_ids, procedure_ids = set(), set(), set()
    for p in payments:
        partner_ids.add(p.partner_id)
        point_ids.add(p.agent_point_id)
        procedure_ids.add(p.procedure_id)
    names: dict[uuid.UUID, tuple[str, str]] = {}
    if partner_ids:
        names.update(
            {x.id: (x.code, x.name) for x in session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))}
        )
    if point_ids:
        names.update(
            {x.id: (x.code, x.name) for x in session.scalars(select(AgentPoint).where(AgentPoint.id.in_(point_ids)))}
        )
    if procedure_ids:
        names.update(
            {x.id: (x.code, x.name) for x in session.scalars(select(Procedure).where(Procedure.id.in_(procedure_ids)))}
        )
    return names


# -- the daily comparison with the gateway's records -------------------------------------------------


@dataclass(frozen=True)
class Difference:
    txn_ref: str
    problem: str  # missing_at_gateway, missing_here, state, amount, refunded
    ours: str
    gateway: str


#: Our states as the gateway's ledger words them.
GATEWAY_STATE = {
    PaymentState.paid: "paid",
    PaymentState.partially_refunded: "paid",
    PaymentState.refunded: "paid",
    PaymentState.failed: "failed",
}


def ours_for_day(session: Session, day: date) -> list[Payment]:
    """Our payments whose result was recorded, or that were paid, on `day` (Vietnam's calendar)."""
    start, end = _bounds(day, day)
    return list(
        session.scalars(
            select(Payment).where(
                ((Payment.paid_at >= start) & (Payment.paid_at < end))
                | ((Payment.state == PaymentState.failed) & (Payment.settled_at >= start) & (Payment.settled_at < end))
            )
        )
    )


def compare(ours: Iterable[Payment], gateway: Iterable[Mapping[str, Any]]) -> list[Difference]:
    """Every difference between our payments of a day and the gateway's transactions of that day.

    The gateway's records are VNPay's word for its ledger (`txn_ref`, `state` paid/failed/cancelled/pending,
    `amount_vnd`, `refunded_vnd`). A transaction there that we never recorded, one we recorded and it does
    not know, a state, amount or refunded total that disagrees: each is one line.
    """
    mine = {p.txn_ref: p for p in ours}
    theirs = {str(t["txn_ref"]): t for t in gateway}
    differences: list[Difference] = []
    for ref, payment in sorted(mine.items()):
        record = theirs.get(ref)
        expected = GATEWAY_STATE.get(payment.state, payment.state.value)
        if record is None:
            differences.append(Difference(ref, "missing_at_gateway", payment.state.value, ""))
            continue
        state = "failed" if record.get("state") == "cancelled" else str(record.get("state"))
        if state != expected:
            differences.append(Difference(ref, "state", payment.state.value, str(record.get("state"))))
        if int(record.get("amount_vnd", -1)) != payment.amount_vnd:
            differences.append(Difference(ref, "amount", str(payment.amount_vnd), str(record.get("amount_vnd"))))
        if int(record.get("refunded_vnd", 0)) != payment.refunded_vnd:
            differences.append(Difference(ref, "refunded", str(payment.refunded_vnd), str(record.get("refunded_vnd"))))
    for ref, record in sorted(theirs.items()):
        if ref not in mine and record.get("state") == "paid":
            differences.append(Difference(ref, "missing_here", "", "paid"))
    return differences


def gateway_records(ledger_url: str, tmn_code: str, day: date, *, timeout_seconds: float) -> list[dict[str, Any]]:
    """The gateway's transactions of `day` for our terminal, over HTTP (the simulator's ledger)."""
    from portal.core.http import make_http_client

    with make_http_client(timeout_seconds=timeout_seconds) as http:
        response = http.get(ledger_url, params={"tmn_code": tmn_code, "pay_day": day.strftime("%Y%m%d")})
        response.raise_for_status()
        body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return [dict(item) for item in items]
