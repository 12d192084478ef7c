"""Tasks for a point's staff about their dossiers: when the city has the result (status 9), tell the citizen.

Written with the status-9 report, in the same unit of work, once per dossier (unique key); marked done by
a staff member (audited); closed on its own when the city returns the result (status 10), which closes
the dossier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers.models import Dossier, FollowUp, FollowUpKind
from agents.policy import Permission
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound
from portal.core.i18n import N_
from portal.core.tenancy import current_scope


def open_for_result(session: Session, dossier: Dossier) -> None:
    """Status 9 applied: the point gets its task (once)."""
    exists = session.scalar(
        select(FollowUp.id).where(FollowUp.dossier_id == dossier.id, FollowUp.kind == FollowUpKind.tell_result_ready)
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                FollowUp(
                    partner_id=dossier.partner_id,
                    dossier_id=dossier.id,
                    agent_point_id=dossier.agent_point_id,
                    kind=FollowUpKind.tell_result_ready,
                )
            )
            session.flush()
    except IntegrityError:
        return  # a concurrent report wrote it


def close_on_return(session: Session, dossier: Dossier) -> None:
    """Status 10: the result is with the citizen; whatever was still open about it is closed."""
    for task in session.scalars(select(FollowUp).where(FollowUp.dossier_id == dossier.id, FollowUp.done_at.is_(None))):
        task.done_at, task.closed_reason = utcnow(), "returned"


@dataclass(frozen=True)
class FollowUpRow:
    task: FollowUp
    dossier: Dossier
    procedure_name: str


def for_actor(session: Session, actor: Actor, *, done: bool = False, limit: int = 100) -> list[FollowUpRow]:
    """The tasks of the actor's points (a manager: every point of the partner), open ones or the latest done."""
    scope = current_scope(session)
    if scope.partner_id is None:
        return []
    query = select(FollowUp, Dossier).join(Dossier, Dossier.id == FollowUp.dossier_id)
    query = query.where(FollowUp.done_at.is_not(None) if done else FollowUp.done_at.is_(None))
    points = policy.points_for(actor, Permission.see_dossiers, scope.partner_id)
    if points is not None:
        query = query.where(FollowUp.agent_point_id.in_(points or {uuid.uuid4()}))
    query = query.order_by(FollowUp.done_at.desc() if done else FollowUp.created_at).limit(limit)
    names = {p.id: p.name for p in session.scalars(select(Procedure))}
    return [FollowUpRow(task, dossier, names.get(dossier.procedure_id, "")) for task, dossier in session.execute(query)]


def of_dossier(session: Session, dossier_id: uuid.UUID) -> list[FollowUp]:
    return list(
        session.scalars(select(FollowUp).where(FollowUp.dossier_id == dossier_id).order_by(FollowUp.created_at))
    )


def mark_done(session: Session, actor: Actor, task_id: uuid.UUID) -> FollowUp:
    """The staff member told the citizen: done, once, on the record."""
    task = session.get(FollowUp, task_id)
    if task is None or not policy.can(
        actor, Permission.file_dossiers, partner_id=task.partner_id, point_id=task.agent_point_id
    ):
        raise NotFound("Không tìm thấy việc cần làm")
    if task.done_at is not None:
        raise Conflict(N_("Việc này đã xong"))
    task.done_at, task.done_by, task.closed_reason = utcnow(), actor.account_id, "done"
    audit.record(
        session,
        "follow_up.done",
        "follow_up",
        task.id,
        partner_id=task.partner_id,
        detail={"dossier_id": str(task.dossier_id), "kind": task.kind.value},
    )
    session.flush()
    return task
