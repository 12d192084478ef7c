"""The city asked for more documents (DVCQG status 5): the same dossier reopens at the point that filed it.

It keeps all its data and files. The staff member adds or replaces only the documents asked for
(a file put into a slot that has files replaces them: the old ones are kept, marked replaced in that
round, so the page shows the difference), and the dossier goes back through the city's supplement
operation once (agents/dossiers/city_requests.py). The city may ask at most once per dossier: a
second request flags the dossier (a breach the center lists with the agency that asked). A request
the point's completeness check should have prevented is marked agent-caused and counted against
the point's quality figures (agents/reporting/queries.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents import policy
from agents.documents import service as documents
from agents.documents.models import DossierDocument
from agents.dossiers import city_requests, queries
from agents.dossiers.attention import visible_to
from agents.dossiers.models import (
    CityRequest,
    CityRequestKind,
    CityStatus,
    Dossier,
    DossierEvent,
    DossierState,
)
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.models import ProcedureVersion
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_

log = logging.getLogger(__name__)
MAX_NOTE = 2000


@dataclass(frozen=True)
class SuppliedFile:
    """One file brought for the city's request, under the code of the document slot it goes into."""

    slot: str
    data: bytes
    file_name: str = ""


def requests_made(session: Session, dossier_id: uuid.UUID) -> int:
    """How many times the city asked for more documents (applied status-5 reports)."""
    return int(
        session.scalar(
            select(func.count()).where(
                DossierEvent.dossier_id == dossier_id,
                DossierEvent.source == "city",
                DossierEvent.city_status == CityStatus.supplement_requested.value,
                DossierEvent.refused_after.is_(None),
                DossierEvent.city_seq.is_not(None),
            )
        )
        or 0
    )


def rounds_answered(session: Session, dossier_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.max(CityRequest.round)).where(
                CityRequest.dossier_id == dossier_id, CityRequest.kind == CityRequestKind.supplement
            )
        )
        or 0
    )


def waiting_round(session: Session, dossier: Dossier) -> int | None:
    """The round of the city's request for more documents nobody has answered yet; None when none waits."""
    if dossier.state is not DossierState.forwarded or dossier.city_status != CityStatus.supplement_requested:
        return None
    asked = requests_made(session, dossier.id)
    return asked if asked > rounds_answered(session, dossier.id) else None


def city_note(session: Session, dossier: Dossier) -> str:
    """What the city said is missing: the note of its latest applied status-5 report."""
    note = session.scalar(
        select(DossierEvent.note)
        .where(
            DossierEvent.dossier_id == dossier.id,
            DossierEvent.source == "city",
            DossierEvent.city_status == CityStatus.supplement_requested.value,
            DossierEvent.refused_after.is_(None),
        )
        .order_by(DossierEvent.city_seq.desc())
        .limit(1)
    )
    return note or ""


def submit(session: Session, actor: Actor, dossier_id: uuid.UUID, note: str, files: list[SuppliedFile]) -> CityRequest:
    """Add or replace the documents asked for and send the dossier back to the city, once.

    404 for a dossier the actor may not see (exactly like a missing one), 403 when they may see
    it but not file at its point, 409 when it is not waiting for a supplement (or it was answered
    already), 422 naming the field for a bad note, an unknown slot or a refused file.
    Nothing is kept unless everything is.
    """
    try:
        dossier = queries.get_for_actor(session, actor, dossier_id)
    except NotFound:  # missing or out of reach, the same answer; the attempt goes on the record
        audit.record_refusal(
            session, "dossier.supplement_refused", "dossier", dossier_id, detail={"reason": "not_found"}
        )
        raise
    policy.require(actor, Permission.file_dossiers, partner_id=dossier.partner_id, point_id=dossier.agent_point_id)
    round_ = waiting_round(session, dossier)
    if round_ is None:
        audit.record_refusal(
            session,
            "dossier.supplement_refused",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": "not_waiting_for_supplement", "city_status": dossier.city_status},
        )
        raise Conflict(
            N_("Hồ sơ không chờ bổ sung giấy tờ (chỉ gửi bổ sung khi cơ quan yêu cầu, và chỉ một lần cho mỗi yêu cầu)")
        )
    procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    assert procedure is not None
    slots = documents.slot_names(procedure.required_documents)
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if len(note) > MAX_NOTE:
        errors["note"] = N_("Quá dài (tối đa 2000 ký tự)")
    for supplied in files:
        if supplied.slot not in slots:
            errors[supplied.slot[:80]] = N_("Không phải giấy tờ của thủ tục này")
    if not files:
        errors["files"] = N_("Chưa chọn tệp giấy tờ bổ sung nào")
    if errors:
        audit.record_refusal(
            session,
            "dossier.supplement_refused",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": "invalid", "fields": sorted(errors)},
        )
        raise ValidationFailed(
            N_("Hồ sơ bổ sung chưa hợp lệ; vui lòng sửa các trường được đánh dấu"), field_errors=errors
        )

    request = city_requests.queue(
        session,
        dossier,
        CityRequestKind.supplement,
        round_,
        note or f"Bổ sung: {', '.join(slots[s] for s in dict.fromkeys(f.slot for f in files))}",
        actor.account_id,
        N_("Yêu cầu bổ sung này đã được trả lời"),
    )
    replaced: list[str] = []
    added: list[str] = []
    for slot in dict.fromkeys(f.slot for f in files):
        current = session.scalars(
            select(DossierDocument).where(
                DossierDocument.dossier_id == dossier.id,
                DossierDocument.slot == slot,
                DossierDocument.replaced_in_round.is_(None),
            )
        ).all()
        for old in current:
            old.replaced_in_round = round_
        (replaced if current else added).append(slot)
    for supplied in files:
        try:
            documents.add_to_dossier(
                session, actor, dossier, supplied.slot, supplied.data, supplied.file_name, supplement_round=round_
            )
        except ValidationFailed as exc:  # a refused file: recorded, everything of this supplement rolled back
            raise ValidationFailed(exc.message, field_errors={supplied.slot: exc.message}) from exc
    described = "; ".join(
        part
        for part in (
            f"thay thế {', '.join(slots[s] for s in replaced)}" if replaced else "",
            f"thêm {', '.join(slots[s] for s in added)}" if added else "",
        )
        if part
    )
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=utcnow(),
            source="portal",
            state=dossier.state.value,
            actor=actor.full_name,
            note=f"Bổ sung giấy tờ theo yêu cầu lần {round_}: {described}" + (f". Ghi chú: {note}" if note else ""),
        )
    )
    audit.record(
        session,
        "dossier.supplement_submitted",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"round": round_, "replaced": replaced, "added": added, "files": len(files)},
    )
    session.flush()
    return request


@dataclass(frozen=True)
class SlotChange:
    """One document of the dossier as a supplement round changed it: the files before and the files brought."""

    slot: str
    name: str
    before: list[DossierDocument]
    brought: list[DossierDocument]

    @property
    def replaced(self) -> bool:
        return bool(self.before)


def changes_of(session: Session, dossier: Dossier, round_: int) -> list[SlotChange]:
    """What supplement `round_` added or replaced, slot by slot, in the procedure's order."""
    procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    assert procedure is not None
    files = documents.of_dossier(session, dossier.id)
    out = []
    for slot, name in documents.slot_names(procedure.required_documents).items():
        brought = [f for f in files if f.slot == slot and f.supplement_round == round_]
        if brought:
            before = [f for f in files if f.slot == slot and f.replaced_in_round == round_]
            out.append(SlotChange(slot, name, before, brought))
    return out


def flag_breach_if_repeated(session: Session, dossier: Dossier, agency: str) -> bool:
    """After a status-5 report was applied: a second request breaks the at-most-once rule. Flag it, once."""
    asked = requests_made(session, dossier.id)
    if asked < 2:
        return False
    first = not dossier.supplement_breach
    dossier.supplement_breach = True
    audit.record(
        session,
        "dossier.supplement_breach",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"requests": asked, "agency": agency, "city_dossier_code": dossier.city_dossier_code},
    )
    log.error(
        "ALERT dossier %s (%s): the city asked for more documents %s times (at most once is the rule); asked by %s",
        dossier.tracking_code,
        dossier.city_dossier_code,
        asked,
        agency,
    )
    return first


def mark_agent_caused(session: Session, actor: Actor, dossier_id: uuid.UUID) -> Dossier:
    """The city's request for more documents was the point's own miss: counted against the point, once."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or not policy.can(
        actor, Permission.mark_supplement_cause, partner_id=dossier.partner_id, point_id=dossier.agent_point_id
    ):
        raise NotFound("Không tìm thấy hồ sơ")  # outside their reach: exactly like one that does not exist
    if requests_made(session, dossier.id) == 0:
        raise Conflict(N_("Cơ quan chưa yêu cầu bổ sung hồ sơ này"))
    if dossier.agent_caused_supplement_at is not None:
        raise Conflict(N_("Đã ghi nhận yêu cầu bổ sung này là do điểm tiếp nhận"))
    dossier.agent_caused_supplement_at = utcnow()
    dossier.agent_caused_supplement_by = actor.account_id
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=utcnow(),
            source="portal",
            state=dossier.state.value,
            actor=actor.full_name,
            note="Ghi nhận: yêu cầu bổ sung do điểm tiếp nhận kiểm tra thiếu thành phần hồ sơ",
        )
    )
    audit.record(session, "dossier.supplement_agent_caused", "dossier", dossier.id, partner_id=dossier.partner_id)
    session.flush()
    return dossier


@dataclass(frozen=True)
class Breach:
    dossier: Dossier
    procedure: ProcedureVersion  # the version it was filed under
    agency: str
    notes: list[str]  # what the city asked each time


def breaches(session: Session, limit: int = 200) -> list[Breach]:
    """Every dossier the city asked more than once for documents, newest first (a network scope: all partners)."""
    rows = session.scalars(
        select(Dossier).where(Dossier.supplement_breach.is_(True)).order_by(Dossier.updated_at.desc()).limit(limit)
    ).all()
    out = []
    for dossier in rows:
        procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
        assert procedure is not None
        notes = [
            e.note
            for e in dossier.timeline
            if e.source == "city" and e.city_status == CityStatus.supplement_requested and e.refused_after is None
        ]
        out.append(Breach(dossier, procedure, procedure.handled_by, notes))
    return out


def waiting_at_points(session: Session, actor: Actor, limit: int = 100) -> list[Dossier]:
    """The dossiers of the actor's points the city asked more documents of, not yet answered, oldest first."""
    query = select(Dossier).where(
        Dossier.state == DossierState.forwarded, Dossier.city_status == CityStatus.supplement_requested.value
    )
    rows = session.scalars(visible_to(session, actor, query).order_by(Dossier.updated_at).limit(limit)).all()
    return [d for d in rows if waiting_round(session, d) is not None]
