"""A citizen reports a problem with a dossier's service; the partner's manager and the center answer
until it is resolved; the citizen follows it through the report's own signed link."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers import queries
from agents.dossiers.models import Dossier
from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.problems.models import ProblemKind, ProblemMessage, ProblemReport, ProblemStatus
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings

TEXT_MAX = 2000
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def follow_token(reference: str) -> str:
    """The secret in the citizen's link to their report (only the one who filed it has it)."""
    key = hashlib.sha256(("problem-follow:" + get_settings().keys.secret_key).encode()).digest()
    return hmac.new(key, reference.encode(), hashlib.sha256).hexdigest()[:32]


def _text(value: str, field: str, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed("Vui lòng nhập nội dung", field_errors={field: N_("Nhập nội dung")})
    if len(text) > TEXT_MAX:
        raise ValidationFailed("Nội dung quá dài", field_errors={field: N_("Tối đa 2000 ký tự")})
    return text


def parse_kind(value: str) -> ProblemKind:
    try:
        return ProblemKind(value)
    except ValueError:
        raise ValidationFailed("Vui lòng chọn loại sự cố", field_errors={"kind": N_("Chọn loại sự cố")}) from None


def _message(session: Session, report: ProblemReport, author: str, label: str, body: str) -> None:
    session.add(
        ProblemMessage(partner_id=report.partner_id, report_id=report.id, author=author, author_label=label, body=body)
    )


def report(session: Session, tracking_code: str, phone: str, kind_text: str, description: str) -> ProblemReport:
    """File a report about the dossier the code and the owner's phone name (both must match)."""
    kind = parse_kind(kind_text)
    body = _text(description, "description", required=kind is ProblemKind.other)
    dossier = queries.track(session, tracking_code, phone)  # "no such code" and "wrong phone" look the same
    reference = "PR-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    problem = ProblemReport(
        partner_id=dossier.partner_id,
        reference=reference,
        dossier_id=dossier.id,
        agent_point_id=dossier.agent_point_id,
        kind=kind,
        description=body,
    )
    session.add(problem)
    session.flush()
    if body:
        _message(session, problem, "citizen", "", body)
    audit.record(
        session,
        "problem.reported",
        "problem_report",
        problem.id,
        partner_id=problem.partner_id,
        detail={"reference": reference, "kind": kind.value, "dossier_id": str(dossier.id)},
        actor_label="citizen (problem report)",
    )
    session.flush()
    return problem


@dataclass
class Thread:
    report: ProblemReport
    messages: list[ProblemMessage]
    tracking_code: str
    point_name: str
    partner_name: str


def _thread(session: Session, problem: ProblemReport) -> Thread:
    messages = list(
        session.scalars(
            select(ProblemMessage).where(ProblemMessage.report_id == problem.id).order_by(ProblemMessage.created_at)
        )
    )
    names = session.execute(
        select(Dossier.tracking_code, AgentPoint.name, Partner.name)
        .join(AgentPoint, AgentPoint.id == Dossier.agent_point_id)
        .join(Partner, Partner.id == Dossier.partner_id)
        .where(Dossier.id == problem.dossier_id)
    ).one()
    return Thread(problem, messages, names[0], names[1], names[2])


def for_citizen(session: Session, reference: str, token: str) -> Thread:
    """The report a follow link names; a wrong token looks like an unknown reference."""
    ref = (reference or "").strip().upper()
    expected = follow_token(ref).encode()
    problem = session.scalar(select(ProblemReport).where(ProblemReport.reference == ref))
    if not hmac.compare_digest(expected, (token or "").encode("utf-8", "replace")) or problem is None:
        raise NotFound("Không tìm thấy báo cáo sự cố")
    return _thread(session, problem)


def citizen_reply(session: Session, reference: str, token: str, body: str) -> Thread:
    thread = for_citizen(session, reference, token)
    problem = thread.report
    if problem.status is ProblemStatus.resolved:
        raise Conflict("Báo cáo đã được giải quyết")
    text = _text(body, "body", required=True)
    _message(session, problem, "citizen", "", text)
    problem.status = ProblemStatus.open
    audit.record(
        session,
        "problem.citizen_replied",
        "problem_report",
        problem.id,
        partner_id=problem.partner_id,
        actor_label="citizen (problem report)",
    )
    session.flush()
    return _thread(session, problem)


def answer(session: Session, actor: Actor, report_id: uuid.UUID, body: str, *, resolve: bool) -> Thread:
    """The partner's manager or the center replies; `resolve` closes the report with this reply."""
    problem = session.get(ProblemReport, report_id)  # another partner's is not in a partner's scope: 404
    if problem is None:
        raise NotFound("Không tìm thấy báo cáo sự cố")
    policy.require(actor, Permission.answer_problem_reports, partner_id=problem.partner_id)
    if problem.status is ProblemStatus.resolved:
        raise Conflict("Báo cáo đã được giải quyết")
    text = _text(body, "body", required=True)
    from_center = any(g.partner_id is None for g in actor.grants)
    _message(session, problem, "center" if from_center else "partner", actor.label, text)
    problem.status = ProblemStatus.resolved if resolve else ProblemStatus.answered
    problem.resolved_at = utcnow() if resolve else None
    audit.record(
        session,
        "problem.resolved" if resolve else "problem.answered",
        "problem_report",
        problem.id,
        partner_id=problem.partner_id,
        detail={"reference": problem.reference},
    )
    session.flush()
    return _thread(session, problem)


def threads(session: Session, *, status: ProblemStatus | None = None, limit: int = 200) -> list[Thread]:
    """Reports in the session's scope (a partner's, or the network's), unresolved first, newest first."""
    query = select(ProblemReport).order_by(
        (ProblemReport.status == ProblemStatus.resolved).asc(), ProblemReport.created_at.desc()
    )
    if status is not None:
        query = query.where(ProblemReport.status == status)
    return [_thread(session, p) for p in session.scalars(query.limit(limit))]


def open_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ProblemReport).where(ProblemReport.status != ProblemStatus.resolved)
        )
        or 0
    )
