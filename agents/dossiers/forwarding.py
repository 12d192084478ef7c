"""Forwarding to the city: what to send for a queued dossier, and recording what the city answered.

The city is called between two units of work (agents/dossiers/tasks.py), so no
transaction is held open while it answers. Recording is a compare-and-set from
`queued`: a redelivered message or a concurrent run changes nothing twice.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.city.client import CityReceipt
from agents.city.wire import city_payload
from agents.dossiers.models import Dossier, DossierEvent, DossierState
from agents.points.models import AgentPoint
from agents.procedures import service as procedures
from portal.core import audit, metrics
from portal.core.celery_app import enqueue
from portal.core.db import on_commit, rows_changed, utcnow
from portal.core.errors import Conflict, ExternalServiceError, NotFound
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

log = logging.getLogger(__name__)
FORWARDER = "Cổng đại lý (tự động gửi hồ sơ)"


class ForwardResult(str, enum.Enum):
    forwarded = "forwarded"  # the city took it: queued -> forwarded, with its code and due date
    already_done = "already_done"  # not queued any more (forwarded or rejected before): nothing to do
    retry = "retry"  # the city could not take it now (down, 5xx, 429): try again later
    rejected = "rejected"  # the city refused it for good (4xx): queued -> rejected, reason kept
    gave_up = "gave_up"  # failed every attempt there was: queued -> forward_failed, for the center to resend
    missing = "missing"  # no such dossier


@dataclass(frozen=True)
class ForwardOutcome:
    kind: ForwardResult
    retry_after: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class ForwardRequest:
    """What to send to the city for one queued dossier (read in a unit of work that has ended)."""

    dossier_id: uuid.UUID
    payload: dict[str, Any]


def prepare_forward(session: Session, dossier_id: uuid.UUID) -> ForwardRequest | ForwardOutcome:
    """The payload of a queued dossier, or the outcome that says there is nothing to send."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        return ForwardOutcome(ForwardResult.missing)
    if dossier.state is not DossierState.queued:
        return ForwardOutcome(ForwardResult.already_done)
    version = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    assert point is not None
    return ForwardRequest(dossier.id, city_payload(dossier, version, point))


def record_forward_failure(session: Session, dossier_id: uuid.UUID, error: ExternalServiceError) -> ForwardOutcome:
    """The city did not take the dossier: count the attempt; a final refusal rejects it for good.

    Compare-and-set from `queued`: a concurrent run that already forwarded it wins.
    """
    if error.retryable:
        session.execute(
            update(Dossier)
            .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
            .values(forward_attempts=Dossier.forward_attempts + 1, last_error=error.message[:1000])
        )
        limit = get_settings().forwarding.give_up_after_attempts
        if rows_changed(
            session,
            update(Dossier)
            .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued, Dossier.forward_attempts >= limit)
            .values(state=DossierState.forward_failed),
        ):
            return _gave_up(session, dossier_id, limit, error)
        return ForwardOutcome(ForwardResult.retry, retry_after=error.retry_after, detail=error.message)
    changed = rows_changed(
        session,
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
        .values(
            state=DossierState.rejected,
            forward_attempts=Dossier.forward_attempts + 1,
            last_error=error.message[:1000],
        ),
    )
    if changed:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        _portal_event(session, dossier, DossierState.rejected, f"Hệ thống một cửa từ chối: {error.message}")
        audit.record(
            session,
            "dossier.rejected_by_city",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": error.message},
        )
    return ForwardOutcome(ForwardResult.rejected, detail=error.message)


def _gave_up(session: Session, dossier_id: uuid.UUID, attempts: int, error: ExternalServiceError) -> ForwardOutcome:
    dossier = session.get(Dossier, dossier_id)
    assert dossier is not None
    _portal_event(
        session,
        dossier,
        DossierState.forward_failed,
        f"Chưa gửi được sang hệ thống một cửa sau {attempts} lần thử; chờ Trung tâm gửi lại",
    )
    audit.record(
        session,
        "dossier.forward_failed",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"attempts": attempts, "last_error": error.message[:300]},
    )
    log.error(
        "ALERT dossier %s not taken by the city after %s attempts: %s", dossier.tracking_code, attempts, error.message
    )
    return ForwardOutcome(ForwardResult.gave_up, detail=error.message)


def send_again(session: Session, dossier_id: uuid.UUID) -> Dossier:
    """The center sends a forward_failed dossier again: back to queued with a fresh count, enqueued on commit."""
    changed = rows_changed(
        session,
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.state == DossierState.forward_failed)
        .values(state=DossierState.queued, forward_attempts=0, updated_at=utcnow()),
    )
    dossier = session.get(Dossier, dossier_id, populate_existing=True)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ")
    if not changed:
        raise Conflict("Hồ sơ không ở trạng thái chờ gửi lại")
    scope = current_scope(session)
    _portal_event(session, dossier, DossierState.queued, f"Trung tâm gửi lại hồ sơ ({scope.actor_label})")
    audit.record(session, "dossier.sent_again", "dossier", dossier.id, partner_id=dossier.partner_id)
    dossier_id_, partner_id = dossier.id, dossier.partner_id
    again = Scope.partner(partner_id, actor_id=scope.actor_id, actor_label=scope.actor_label, origin=scope.origin)
    on_commit(session, lambda: enqueue_forward(dossier_id_, partner_id, again))
    return dossier


def record_forwarded(session: Session, dossier_id: uuid.UUID, receipt: CityReceipt) -> ForwardOutcome:
    """The city took the dossier: `queued → forwarded` with its code and due date, once."""
    changed = rows_changed(
        session,
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
        .values(
            state=DossierState.forwarded,
            city_dossier_code=receipt.city_dossier_code,
            forwarded_at=utcnow(),
            due_at=receipt.due_at,
            forward_attempts=Dossier.forward_attempts + 1,
            last_error=None,
        ),
    )
    if not changed:
        return ForwardOutcome(ForwardResult.already_done)
    dossier = session.get(Dossier, dossier_id)
    assert dossier is not None
    _portal_event(
        session,
        dossier,
        DossierState.forwarded,
        f"Hệ thống một cửa đã nhận hồ sơ, mã hồ sơ {receipt.city_dossier_code}",
        # When the city took it, by the city's clock: the moment of its first status report, so the
        # history reads "sent" before "1 · new" however long our side took to record the answer; never
        # before our own earlier steps (the two clocks differ).
        occurred_at=max([receipt.received_at, *(e.occurred_at + timedelta(microseconds=1) for e in dossier.events)]),
    )
    audit.record(
        session,
        "dossier.forwarded",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"city_dossier_code": receipt.city_dossier_code},
    )
    submitted_at = dossier.submitted_at
    on_commit(session, lambda: metrics.observe_forwarding_lag(submitted_at))
    return ForwardOutcome(ForwardResult.forwarded, detail=receipt.city_dossier_code)


def _portal_event(
    session: Session, dossier: Dossier, state: DossierState, note: str, *, occurred_at: datetime | None = None
) -> None:
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=occurred_at or utcnow(),
            source="portal",
            state=state.value,
            actor=FORWARDER,  # the history says the system did it; the audit entry says for whom
            note=note,
        )
    )


def claim_unforwarded_dossiers(
    session: Session, older_than: timedelta, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Queued dossiers nobody has moved for a while (lost message, city outage), each marked as moved now.

    The mark (`updated_at`) is the claim: a dossier whose message waits behind a slow worker is sent
    again once per `older_than`, not at every sweep, so a busy queue is not flooded with copies of
    the same forward. Needs a network scope; the caller enqueues after commit.
    """
    cutoff = utcnow() - older_than
    rows = session.execute(
        select(Dossier.id, Dossier.partner_id)
        .where(Dossier.state == DossierState.queued, Dossier.updated_at < cutoff)
        .order_by(Dossier.submitted_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        session.execute(
            update(Dossier)
            .where(Dossier.id.in_([row.id for row in rows]), Dossier.state == DossierState.queued)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return [(row.id, row.partner_id) for row in rows]


def enqueue_forward(dossier_id: uuid.UUID, partner_id: uuid.UUID, scope: Scope) -> None:
    """Ask a worker to forward the dossier, in `scope` (who asked). If the broker is down the sweeper will."""
    try:
        enqueue("dossiers.forward", [str(dossier_id), str(partner_id)], scope=scope)
    except Exception:
        log.exception("could not enqueue dossier %s; the sweeper will pick it up", dossier_id)
