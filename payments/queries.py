"""Reading payments: one for a caller who may see its dossier, a dossier's attempts, the return page's view."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.dossiers import queries as dossiers
from agents.staff.actor import Actor
from portal.core.errors import NotFound

from .models import Payment


def get_for_actor(session: Session, actor: Actor, payment_id: uuid.UUID) -> Payment:
    """A payment whose dossier the actor may see; any other answers like a missing one (404)."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("Không tìm thấy giao dịch thanh toán")
    try:
        dossiers.get_for_actor(session, actor, payment.dossier_id)
    except NotFound:
        raise NotFound("Không tìm thấy giao dịch thanh toán") from None
    return payment


def by_txn_ref(session: Session, txn_ref: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.txn_ref == txn_ref))
