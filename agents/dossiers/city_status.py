"""Following the city's answers: each status report (a callback or a poll) recorded once.

Duplicates (same event id) are dropped; late reports (a lower sequence number
than the one we hold) go into the history without moving the status back; a
newer report whose status cannot follow the dossier's (the transition table in
agents/dossiers/rules.py: a finished dossier moved back to 3, say) is kept in
the history as refused, with the status it could not follow, and changes
nothing else. Every report is audited with what became of it.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.city.wire import CityUpdate
from agents.dossiers import follow_ups, rules, supplements
from agents.dossiers.models import CityPoll, CityStatus, Dossier, DossierEvent, DossierState
from agents.notifications import outbox
from agents.notifications import rules as notification_rules
from agents.points.models import AgentPoint
from agents.procedures import service as procedures
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import NotFound, ValidationFailed
from portal.core.settings import get_settings

log = logging.getLogger(__name__)


class ReportOutcome(str, enum.Enum):
    """What became of one status report (the callback answers it as {"result": <value>})."""

    applied = "applied"  # the newest word on the dossier: its status moved
    late = "late"  # older than what we hold (lower sequence number): in the history, status unchanged
    duplicate = "duplicate"  # the same event again: nothing recorded
    refused = "refused"  # newer, but its status cannot follow the dossier's: in the history as refused, nothing moved


def apply_city_update(session: Session, update_: CityUpdate) -> ReportOutcome:
    """Record one status change reported by the city (callback or poll).

    Duplicates (same event id) are ignored; late arrivals (lower sequence
    number than the one we hold) go into the history but do not move the
    current status back.
    """
    if update_.status not in {s.value for s in CityStatus}:
        raise ValidationFailed(
            "Unknown DVCQG status %(status)s",
            params={"status": update_.status},
            field_errors={"TrangThaiHoSo": "unknown"},
        )
    dossier = None
    if update_.city_dossier_code:
        dossier = session.scalar(select(Dossier).where(Dossier.city_dossier_code == update_.city_dossier_code))
    if dossier is None and update_.tracking_code:
        dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == update_.tracking_code))
    if dossier is None:
        raise NotFound("no such dossier")
    if session.scalar(select(DossierEvent.id).where(DossierEvent.city_event_id == update_.event_id)):
        return ReportOutcome.duplicate

    status = CityStatus(update_.status)
    try:
        with session.begin_nested():
            outcome = _record_city_event(session, dossier, status, update_)
    except IntegrityError:
        return ReportOutcome.duplicate  # the same event arrived concurrently and the other request stored it
    return outcome


def _record_city_event(session: Session, dossier: Dossier, status: CityStatus, update_: CityUpdate) -> ReportOutcome:
    event = DossierEvent(
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        occurred_at=update_.occurred_at,
        source="city",
        city_status=status.value,
        city_event_id=update_.event_id,
        city_seq=update_.seq,
        actor="Hệ thống một cửa",
        note=update_.note,
    )
    session.add(event)
    current = CityStatus(dossier.city_status) if dossier.city_status else None
    detail: dict[str, object] = {"status": status.value, "seq": update_.seq, "event_id": update_.event_id}
    if update_.seq <= dossier.city_status_seq:
        outcome = ReportOutcome.late
    elif rules.may_follow(current, dossier.city_status_seq, status, update_.seq):
        outcome = ReportOutcome.applied
        dossier.city_status = status.value
        dossier.city_status_seq = update_.seq
        if dossier.city_dossier_code is None and update_.city_dossier_code:
            dossier.city_dossier_code = update_.city_dossier_code
    else:
        outcome = ReportOutcome.refused
        event.refused_after = current.value if current else 0
        detail["refused_after"] = event.refused_after
        log.warning(
            "dossier %s: the city reported status %s (seq %s) after %s; refused",
            dossier.tracking_code,
            status.value,
            update_.seq,
            event.refused_after,
        )
    if outcome is not ReportOutcome.refused:
        if status.is_done and (dossier.finished_at is None or update_.occurred_at < dossier.finished_at):
            dossier.finished_at = update_.occurred_at
        if status is CityStatus.returned and dossier.returned_at is None:
            dossier.returned_at = update_.occurred_at
    audit.record(
        session,
        "dossier.city_status",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={**detail, "outcome": outcome.value},
    )
    if outcome is ReportOutcome.applied:
        session.flush()  # the report is in the history: the counts below include it
        if status is CityStatus.supplement_requested:
            procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
            supplements.flag_breach_if_repeated(session, dossier, procedure.handled_by if procedure else "")
        elif status is CityStatus.processed:
            follow_ups.open_for_result(session, dossier)
        elif status is CityStatus.returned:
            follow_ups.close_on_return(session, dossier)
        _tell_the_citizen(session, dossier, status, update_.note)
    return outcome


def _tell_the_citizen(session: Session, dossier: Dossier, status: CityStatus, note: str | None) -> None:
    """Write the messages this status calls for on the channels the citizen chose (sent after commit)."""
    kind = notification_rules.kind_for_city_status(status.value)
    if kind is None or not (dossier.notify_sms or dossier.notify_email):
        return
    procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    facts = notification_rules.NotificationFacts(
        tracking_code=dossier.tracking_code,
        tracking_link=notification_rules.tracking_link(get_settings().web.public_url, dossier.tracking_code),
        procedure_name=procedure.name if procedure is not None else "",
        note=note or None,
        due_date=dossier.due_at.date() if dossier.due_at else None,
        point_name=point.name if point is not None else None,
        point_address=point.address if point is not None else None,
        citizen_name=dossier.owner_full_name,
    )
    outbox.queue_notices(
        session,
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        kind=kind,
        city_status=status.value,
        facts=facts,
        phone=dossier.owner_phone if dossier.notify_sms else None,
        email=dossier.notify_email,
    )


def city_code_of(session: Session, dossier_id: uuid.UUID) -> str | None:
    """The city's code of a forwarded dossier (None when it has none yet)."""
    dossier = session.get(Dossier, dossier_id)
    return dossier.city_dossier_code if dossier is not None else None


def claim_silent_dossiers(
    session: Session, silence: timedelta, max_interval: timedelta, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Forwarded, unfinished dossiers the city has said nothing about for `silence` and whose turn to be
    asked has come, longest waiting first; each one's next turn is set before it is returned.

    The first poll after news waits `silence`; each poll that brings nothing doubles the wait, up to
    `max_interval`. News (the dossier changed since its last poll) starts the count again. Needs a
    network scope; the caller asks the city after commit.
    """
    now = utcnow()
    final = [s.value for s in CityStatus if s.is_final]
    rows = session.execute(
        select(Dossier.id, Dossier.partner_id, Dossier.updated_at, CityPoll)
        .outerjoin(CityPoll, CityPoll.dossier_id == Dossier.id)
        .where(
            Dossier.state == DossierState.forwarded,
            (Dossier.city_status.is_(None)) | (Dossier.city_status.not_in(final)),
            Dossier.updated_at < now - silence,
            or_(
                CityPoll.dossier_id.is_(None),
                CityPoll.next_poll_at <= now,
                Dossier.updated_at > CityPoll.last_polled_at,
            ),
        )
        .order_by(CityPoll.next_poll_at.asc().nulls_first(), Dossier.updated_at)
        .limit(limit)
    ).all()
    claimed = []
    for dossier_id, partner_id, changed_at, poll in rows:
        if poll is None:
            poll = CityPoll(dossier_id=dossier_id, partner_id=partner_id, polls=0)
            session.add(poll)
        elif changed_at > poll.last_polled_at:
            poll.polls = 0  # the city had news since the last poll: back to the shortest wait
        poll.polls += 1
        poll.last_polled_at = now
        poll.next_poll_at = now + min(silence * 2 ** min(poll.polls - 1, 30), max_interval)
        claimed.append((dossier_id, partner_id))
    session.flush()
    return claimed
