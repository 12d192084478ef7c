"""Starting a payment: a dossier's outstanding fee becomes one attempt with a signed VNPay URL.

The dossier row is locked while its attempts are read and a new one is written, so two
clicks (or a staff screen and the citizen's phone at once) never open two attempts: while
one attempt's page is open, starting again returns it. Nothing here marks anything paid;
only the IPN does (payments.confirmation).
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.dossiers import queries as dossiers
from agents.dossiers.models import Dossier, DossierEvent
from agents.procedures import service as procedures
from agents.staff.actor import Actor
from payments.gateways.vnpay import VNPayClient
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound
from portal.core.settings import get_settings

from . import rules
from .models import GatewayMessage, MessageDirection, Payment


class NothingToPay(Conflict):
    code = "nothing_to_pay"


@dataclass(frozen=True)
class Started:
    payment: Payment
    new: bool  # False: the attempt already open was returned


def lock_dossier(session: Session, dossier_id: uuid.UUID) -> Dossier:
    """The dossier, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite writers are serial)."""
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ")
    return dossier


def payments_of(session: Session, dossier_id: uuid.UUID) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.dossier_id == dossier_id).order_by(Payment.created_at)))


def quote_of(session: Session, dossier: Dossier) -> rules.FeeQuote:
    version = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    return rules.fee_quote(version, dossier)


def due_of(session: Session, dossier: Dossier) -> bool:
    """Whether the dossier's fee may be paid yet: its version's `city_charges` and the city statuses it reached."""
    version = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    reached = set(
        session.scalars(
            select(DossierEvent.city_status).where(
                DossierEvent.dossier_id == dossier.id,
                DossierEvent.city_status.is_not(None),
                DossierEvent.refused_after.is_(None),
            )
        )
    )
    if dossier.city_status is not None:
        reached.add(dossier.city_status)
    return rules.fee_due(version.city_charges, {s for s in reached if s is not None})


def outstanding_of(session: Session, dossier: Dossier) -> int:
    attempts = payments_of(session, dossier.id)
    return rules.outstanding_vnd(quote_of(session, dossier), dossier, attempts, due=due_of(session, dossier))


def start_for_actor(
    session: Session, actor: Actor, dossier_id: uuid.UUID, *, client: VNPayClient, return_url: str, ip_addr: str
) -> Started:
    """Staff (or their partner's system) start a payment for a dossier they may see; others get 404."""
    dossiers.get_for_actor(session, actor, dossier_id)
    return start_payment(
        session, dossier_id, started_by=actor.label, client=client, return_url=return_url, ip_addr=ip_addr
    )


def customer_ip(raw: str) -> str:
    """`vnp_IpAddr` must be an IP address; a caller we cannot place is sent as the loopback address."""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return "127.0.0.1"


def start_payment(
    session: Session,
    dossier_id: uuid.UUID,
    *,
    started_by: str,
    client: VNPayClient,
    return_url: str,
    ip_addr: str,
    now: datetime | None = None,
) -> Started:
    """Open (or return the open) payment attempt for what the dossier still owes. 409 when it owes nothing."""
    moment = now or utcnow()
    dossier = lock_dossier(session, dossier_id)
    attempts = payments_of(session, dossier.id)
    live = rules.live_attempt(attempts, moment)
    if live is not None:
        return Started(live, new=False)
    amount = rules.outstanding_vnd(quote_of(session, dossier), dossier, attempts, due=due_of(session, dossier))
    if amount <= 0:
        raise NothingToPay(
            "Hồ sơ %(code)s không có khoản phí nào cần thanh toán", params={"code": dossier.tracking_code}
        )
    txn_ref = rules.new_txn_ref()
    link = client.build_payment_url(
        txn_ref=txn_ref,
        amount_vnd=amount,
        order_info=f"Le phi ho so {dossier.tracking_code}",
        ip_addr=customer_ip(ip_addr),
        return_url=return_url,
        created_at=moment,
        expires_in=timedelta(minutes=get_settings().vnpay.payment_minutes),
    )
    payment = Payment(
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        agent_point_id=dossier.agent_point_id,
        procedure_id=dossier.procedure_id,
        txn_ref=txn_ref,
        amount_vnd=amount,
        payment_url=link.url,
        gateway_create_date=link.create_date,
        expires_at=link.expires_at.astimezone(UTC),
        started_by=started_by[:200],
    )
    session.add(payment)
    session.flush()
    log_message(session, payment, MessageDirection.sent, "pay_url", link.url.split("?", 1)[1], dict(link.params))
    audit.record(
        session,
        "payment.started",
        "payment",
        payment.id,
        partner_id=payment.partner_id,
        detail={"dossier": dossier.tracking_code, "txn_ref": txn_ref, "amount_vnd": amount},
    )
    return Started(payment, new=True)


def log_message(
    session: Session,
    payment: Payment,
    direction: MessageDirection,
    kind: str,
    raw: str | bytes,
    fields: Mapping[str, object],
    outcome: str = "",
) -> GatewayMessage:
    """Append one raw gateway message to the payment's log (they carry signatures, never the secret)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    message = GatewayMessage(
        partner_id=payment.partner_id,
        payment_id=payment.id,
        direction=direction,
        kind=kind,
        raw=text,
        fields=json.loads(json.dumps(fields, default=str)),
        outcome=outcome[:40],
    )
    session.add(message)
    session.flush()
    return message
