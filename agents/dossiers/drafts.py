"""Drafts at the counter: nothing typed is lost, nothing is filed twice.

A dossier starts as a draft when the staff member picks the procedure. The
server gives the draft its idempotency key there and then, so every submit of
that draft, whatever happens in between (a double click, a retry after a
timeout, Back and submit again), reaches `filing.file_dossier` with the same
key and files one dossier. What is typed is saved as it is typed (the page's
autosave), sealed like the other personal data.

The counter timer: every sign of life from an open draft (opening it, a save,
the page's heartbeat while it is visible) adds the time since the previous
sign, unless that silence was longer than `settings.counter.idle_gap_seconds`
(the draft sat unopened). The total is the dossier's `counter_seconds`.

A draft is its creator's: nobody else sees it or resumes it (another person's
or another partner's draft answers 404, like a missing one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.documents.models import DossierDocument
from agents.documents.rules import DocumentSlot, authorisation_slot, document_slots
from agents.dossiers import rules
from agents.dossiers.filing import VN_TZ, Filed, FilingRequest, file_dossier, filing_point, points_for_filing
from agents.dossiers.models import CitizenConsent, Dossier, DossierDraft, DraftState, IdentityCheck
from agents.dossiers.queries import get_for_actor
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.crypto import blind_index, normalise_identifier
from portal.core.db import utcnow
from portal.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings
from portal.core.tenancy import current_scope

# What a draft keeps besides the procedure's own fields ("form.<name>").
CITIZEN_KEYS = ("agent_point_id", *rules.CITIZEN_FIELDS, *rules.PROXY_FIELDS, "notify_sms", "notify_email")
MAX_VALUE_LENGTH = 2000
MISSING_DOCUMENT = N_("Chưa có giấy tờ này")  # per field; the checks at submit say what is really allowed


@dataclass(frozen=True)
class DraftView:
    """An open draft as the staff member's list shows it."""

    draft: DossierDraft
    procedure: Procedure
    owner_full_name: str


def start(
    session: Session,
    actor: Actor,
    procedure_code: str,
    *,
    at_point: bool = False,
    agent_point_id: uuid.UUID | None = None,
) -> DossierDraft:
    """The draft of a new dossier of `procedure_code`, with its idempotency key.

    Picking the same procedure again while the previous draft has nothing typed
    in it resumes that draft instead of leaving empty ones behind (the page's GET).
    `at_point` (a partner system's POST): always a new draft, bound from the start to the
    point it will be filed at (`agent_point_id`, or the actor's one point), which only those
    who may file there reach.
    """
    scope = current_scope(session)
    if scope.partner_id is None:
        raise PermissionDenied("Chỉ nhân viên của đối tác mới tiếp nhận hồ sơ")
    policy.require(actor, Permission.file_dossiers, partner_id=scope.partner_id)
    point_id = filing_point(session, actor, agent_point_id).id if at_point else None
    procedure = procedures.get_published(session, procedure_code)
    # The page's draft: only a procedure one of the person's points offers (a partner system's draft, bound to
    # its point, is refused at submit like any filing there, naming procedure_code).
    if not at_point and not points_for_filing(session, actor, procedure.id):
        raise Conflict(
            "Không điểm đại lý nào của bạn nhận thủ tục %(code)s; quản lý đối tác chọn thủ tục cho từng điểm",
            params={"code": procedure.code},
        )
    empty = (
        None
        if at_point
        else session.scalar(
            select(DossierDraft)
            .where(
                DossierDraft.staff_account_id == actor.account_id,
                DossierDraft.procedure_id == procedure.id,
                DossierDraft.state == DraftState.open,
                DossierDraft.saved_at.is_(None),
            )
            .order_by(DossierDraft.created_at.desc())
            .limit(1)
        )
    )
    if empty is not None:
        return empty
    draft = DossierDraft(
        id=uuid.uuid4(),
        partner_id=scope.partner_id,
        idempotency_key=uuid.uuid4().hex,
        procedure_id=procedure.id,
        staff_account_id=actor.account_id,
        values_sealed="{}",
        state=DraftState.open,
        active_seconds=0,
        agent_point_id=point_id,
    )
    session.add(draft)
    session.flush()
    audit.record(
        session, "dossier.draft_started", "dossier_draft", draft.id, partner_id=draft.partner_id,
        detail={"procedure": procedure.code},
    )  # fmt: skip
    return draft


def get_own(session: Session, actor: Actor, draft_id: uuid.UUID) -> DossierDraft:
    """The actor's own draft; anyone else's answers exactly like a missing one."""
    draft = session.get(DossierDraft, draft_id)
    if draft is None or draft.staff_account_id != actor.account_id:
        raise NotFound("Không tìm thấy bản nháp hồ sơ")
    point = draft.agent_point_id
    if point is not None and not policy.can(
        actor, Permission.file_dossiers, partner_id=draft.partner_id, point_id=point
    ):
        # Another point's draft (a partner system bound elsewhere, with the same accountable person).
        raise NotFound("Không tìm thấy bản nháp hồ sơ")
    return draft


def procedure_of(session: Session, draft: DossierDraft) -> Procedure:
    procedure = session.get(Procedure, draft.procedure_id)
    assert procedure is not None  # a foreign key
    return procedure


def values_of(draft: DossierDraft) -> dict[str, str]:
    """What was typed into the draft, as the form names its fields."""
    loaded = json.loads(draft.values_sealed or "{}")
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def open_drafts(session: Session, actor: Actor) -> list[DraftView]:
    """The actor's drafts still open, the most recently worked on first."""
    drafts = session.scalars(
        select(DossierDraft)
        .where(DossierDraft.staff_account_id == actor.account_id, DossierDraft.state == DraftState.open)
        .where(DossierDraft.saved_at.is_not(None))
        .order_by(DossierDraft.saved_at.desc())
    ).all()
    return [DraftView(d, procedure_of(session, d), values_of(d).get("owner_full_name", "")) for d in drafts]


def touch(draft: DossierDraft, now: datetime | None = None) -> None:
    """A sign of life from the open draft: the counter timer counts the time since the last one."""
    now = now or utcnow()
    gap = timedelta(seconds=get_settings().counter.idle_gap_seconds)
    last = draft.last_active_at
    if last is not None:
        if last.tzinfo is None:  # SQLite gives naive UTC back
            last = last.replace(tzinfo=now.tzinfo)
        if timedelta(0) <= now - last <= gap:
            draft.active_seconds = (draft.active_seconds or 0) + int((now - last).total_seconds())
    draft.last_active_at = now


def opened(session: Session, actor: Actor, draft_id: uuid.UUID) -> DossierDraft:
    """The draft is on the screen again (opened, reloaded, resumed)."""
    draft = get_own(session, actor, draft_id)
    if draft.state is DraftState.open:
        touch(draft)
        session.flush()
    return draft


def save(session: Session, actor: Actor, draft_id: uuid.UUID, raw: dict[str, Any]) -> DossierDraft:
    """Keep what was typed (the whole form as it stands) and count the time.

    Only the form's own fields are kept; a draft already filed or discarded is
    not changed (Conflict: the page shows the dossier instead).
    """
    draft = get_own(session, actor, draft_id)
    require_open(draft)
    allowed = allowed_keys(procedure_of(session, draft))
    kept = {k: str(v)[:MAX_VALUE_LENGTH] for k, v in raw.items() if k in allowed and v not in (None, "")}
    _keep(session, draft, kept)
    return draft


def allowed_keys(procedure: Procedure) -> set[str]:
    """What a draft of this procedure may hold: the citizen's blocks, the notification choice, its form's fields."""
    return {*CITIZEN_KEYS, *(f"form.{name}" for name in procedure.form_schema.get("properties", {}))}


def _keep(session: Session, draft: DossierDraft, values: dict[str, str]) -> None:
    draft.values_sealed = json.dumps(values, ensure_ascii=False, sort_keys=True)
    draft.saved_at = utcnow()
    touch(draft, draft.saved_at)
    session.flush()


def change(
    session: Session,
    actor: Actor,
    draft_id: uuid.UUID,
    changes: dict[str, str | None],
    refused: dict[str, str] | None = None,
) -> DossierDraft:
    """Apply `changes` to what the draft holds (a value replaces, None or "" removes): a partner system's save.

    Unlike the page's autosave (which keeps the form's own fields and drops the rest), a name the
    draft cannot hold or an over-long value is refused, with what the caller `refused` already,
    all at once, and nothing is changed.
    """
    draft = get_own(session, actor, draft_id)
    require_open(draft)
    allowed = allowed_keys(procedure_of(session, draft))
    errors: dict[str, str] = dict(refused or {})
    for key, value in changes.items():
        if key not in allowed:
            errors[key] = N_("Trường không có trong biểu mẫu")
        elif value is not None and len(value) > MAX_VALUE_LENGTH:
            errors[key] = N_("Quá dài (tối đa 2000 ký tự)")
    if errors:
        raise ValidationFailed("Bản nháp chưa lưu được; vui lòng sửa các trường được đánh dấu", field_errors=errors)
    values = values_of(draft)
    for key, value in changes.items():
        if value is None or not value.strip():
            values.pop(key, None)
        else:
            values[key] = value
    _keep(session, draft, values)
    return draft


def heartbeat(session: Session, actor: Actor, draft_id: uuid.UUID) -> DossierDraft:
    draft = get_own(session, actor, draft_id)
    require_open(draft)
    touch(draft)
    session.flush()
    return draft


def discard(session: Session, actor: Actor, draft_id: uuid.UUID) -> None:
    draft = get_own(session, actor, draft_id)
    require_open(draft)
    draft.state = DraftState.discarded
    draft.values_sealed = "{}"  # nothing personal kept for a dossier that will never exist
    for document in session.scalars(select(DossierDocument).where(DossierDocument.draft_id == draft.id)):
        session.delete(document)
    audit.record(session, "dossier.draft_discarded", "dossier_draft", draft.id, partner_id=draft.partner_id)
    session.flush()


def submit(
    session: Session,
    actor: Actor,
    draft_id: uuid.UUID,
    *,
    agent_point_id: uuid.UUID | None,
    citizen: dict[str, str],
    form: dict[str, Any],
    notify_sms: bool = False,
    notify_email: str | None = None,
) -> Filed:
    """File the draft's dossier, exactly once.

    A draft already filed answers with its dossier (created False); otherwise
    `filing.file_dossier` checks everything and files with the draft's key, so
    even two submits racing each other file one dossier. Raises what filing
    raises (ValidationFailed with every field error) and leaves the draft open.
    """
    draft = get_own(session, actor, draft_id)
    if draft.state is DraftState.submitted and draft.dossier_id is not None:
        return Filed(get_for_actor(session, actor, draft.dossier_id), created=False)
    require_open(draft)
    touch(draft)
    procedure = procedure_of(session, draft)
    _check_complete(session, draft, procedure, citizen, form)
    citizen = _with_authorisation(session, draft, procedure, citizen)
    filed = file_dossier(
        session,
        actor,
        FilingRequest(
            procedure_code=procedure.code,
            agent_point_id=agent_point_id,
            idempotency_key=draft.idempotency_key,
            citizen=citizen,
            form=form,
            notify_sms=notify_sms,
            notify_email=notify_email,
        ),
    )
    if filed.created:
        filed.dossier.counter_seconds = draft.active_seconds
        for document in session.scalars(select(DossierDocument).where(DossierDocument.draft_id == draft.id)):
            document.dossier_id = filed.dossier.id
        # The citizen's consent and the identity checks go with it.
        for consent in session.scalars(select(CitizenConsent).where(CitizenConsent.draft_id == draft.id)):
            consent.dossier_id = filed.dossier.id
        for check in session.scalars(select(IdentityCheck).where(IdentityCheck.draft_id == draft.id)):
            check.dossier_id = filed.dossier.id
    draft.state = DraftState.submitted
    draft.dossier_id = filed.dossier.id
    draft.values_sealed = "{}"  # the dossier holds it now
    session.flush()
    return filed


class Incomplete(ValidationFailed):
    """Something mandatory is missing; `missing` names each (form fields and document slots)."""

    code = "incomplete"

    def __init__(
        self, documents: list[DocumentSlot], field_errors: dict[str, str], missing: list[str] | None = None
    ) -> None:
        self.missing = sorted(field_errors) if missing is None else missing
        if not documents:
            super().__init__(N_("Hồ sơ chưa đủ để gửi; còn thiếu các trường được đánh dấu"), field_errors=field_errors)
            return
        super().__init__(
            N_("Hồ sơ chưa đủ để gửi; còn thiếu: %(documents)s, và các trường được đánh dấu (nếu có)"),
            params={"documents": "; ".join(slot.name for slot in documents)},
            field_errors=field_errors,
        )

    def answer_extra(self) -> dict[str, Any]:
        return {"missing": self.missing}


# The proxy's block, once someone files for the owner (the written authorisation is a document slot).
PROXY_REQUIRED = ("proxy_full_name", "proxy_id_number", "proxy_phone")


def missing(session: Session, draft: DossierDraft, procedure: Procedure | None = None) -> list[str]:
    """What the draft still lacks to be filed, in the form's names: the owner's block, the proxy's
    (once named), the form's required fields, then each mandatory document (`documents.<slot>`,
    the proxy's authorisation among them when someone files for the owner)."""
    procedure = procedure or procedure_of(session, draft)
    values = {k: v for k, v in values_of(draft).items() if v.strip()}
    gaps = [name for name in rules.CITIZEN_FIELDS if name not in values]
    if has_proxy(values):
        gaps += [name for name in PROXY_REQUIRED if name not in values]
    gaps += [f"form.{name}" for name in procedure.form_schema.get("required", []) if f"form.{name}" not in values]
    gaps += [f"documents.{slot.code}" for slot in missing_documents(session, draft, procedure)]
    return gaps


def submit_saved(session: Session, actor: Actor, draft_id: uuid.UUID) -> Filed:
    """File the draft from what it holds (a partner system's submit), exactly once.

    Something mandatory missing: `Incomplete` with `missing` and every field's problem at once;
    otherwise `submit`'s own checks (a stale identity check, filing's ValidationFailed). A draft
    filed already answers with its dossier.
    """
    draft = get_own(session, actor, draft_id)
    if draft.state is DraftState.submitted and draft.dossier_id is not None:
        return submit(session, actor, draft_id, agent_point_id=None, citizen={}, form={})
    require_open(draft)
    procedure = procedure_of(session, draft)
    values = values_of(draft)
    citizen = {k: values.get(k, "") for k in (*rules.CITIZEN_FIELDS, *rules.PROXY_FIELDS)}
    form = {k.removeprefix("form."): v for k, v in values.items() if k.startswith("form.")}
    gaps = missing(session, draft, procedure)
    if gaps:
        errors: dict[str, str] = {name: N_("Bắt buộc nhập") for name in gaps if not name.startswith("documents.")}
        errors.update({name: MISSING_DOCUMENT for name in gaps if name.startswith("documents.")})
        errors.update(stale_identity_checks(session, draft, citizen))
        today = utcnow().astimezone(VN_TZ).date()
        checked = rules.check_citizen(_with_authorisation(session, draft, procedure, citizen), today)[1]
        for name, message in checked.items():
            errors.setdefault(name, message)
        for name, message in procedures.check_form(procedure, form)[1].items():
            errors.setdefault(f"form.{name}", message)
        slots = {f"documents.{s.code}": s for s in document_slots(procedure.required_documents)}
        raise Incomplete([slots[g] for g in gaps if g in slots], errors, missing=gaps)
    return submit(
        session,
        actor,
        draft_id,
        agent_point_id=draft.agent_point_id,
        citizen=citizen,
        form=form,
        notify_sms=values.get("notify_sms") == "on",
        notify_email=values.get("notify_email") or None,
    )


def has_proxy(values: dict[str, Any]) -> bool:
    """Someone files for the owner: the proxy block names them."""
    return any(str(values.get(name) or "").strip() for name in rules.PROXY_FIELDS if name != "proxy_authorisation")


def missing_documents(
    session: Session, draft: DossierDraft, procedure: Procedure, citizen: dict[str, Any] | None = None
) -> list[DocumentSlot]:
    """The procedure's mandatory documents with no file in the draft yet, and the proxy's written
    authorisation when someone files for the owner (`citizen`: the filing's parties, else the draft's)."""
    filled = set(session.scalars(select(DossierDocument.slot).where(DossierDocument.draft_id == draft.id)))
    slots = document_slots(procedure.required_documents)
    missing = [s for s in slots if s.mandatory and s.code not in filled]
    if has_proxy(values_of(draft) if citizen is None else citizen):
        authorisation = authorisation_slot(slots)
        if authorisation.code not in filled:
            missing.append(authorisation)
    return missing


def stale_identity_checks(session: Session, draft: DossierDraft, citizen: dict[str, Any]) -> dict[str, str]:
    """Field errors for each identity check whose number is no longer the one the filing names for its party."""
    errors: dict[str, str] = {}
    for check in session.scalars(select(IdentityCheck).where(IdentityCheck.draft_id == draft.id)):
        number = normalise_identifier(str(citizen.get(f"{check.party}_id_number") or ""))
        if not number or check.number_index != blind_index(number):
            errors[f"identity.{check.party}"] = N_("Số CCCD đã đổi sau khi kiểm tra giấy tờ: hãy kiểm tra lại")
    return errors


def _check_complete(
    session: Session, draft: DossierDraft, procedure: Procedure, citizen: dict[str, str], form: dict[str, Any]
) -> None:
    """Before anything is filed: every mandatory document present (the authorisation too when a proxy
    files), no identity check gone stale, and then every field (all reported at once)."""
    missing = missing_documents(session, draft, procedure, citizen)
    stale = stale_identity_checks(session, draft, citizen)
    if not missing and not stale:
        return  # the fields are checked by filing, which reports them all
    errors: dict[str, str] = {f"documents.{slot.code}": MISSING_DOCUMENT for slot in missing}
    errors.update(stale)
    errors.update(
        rules.check_citizen(_with_authorisation(session, draft, procedure, citizen), utcnow().astimezone(VN_TZ).date())[
            1
        ]
    )
    errors.update({f"form.{k}": v for k, v in procedures.check_form(procedure, form)[1].items()})
    if not missing:
        raise ValidationFailed(N_("Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu"), field_errors=errors)
    raise Incomplete(missing, errors)


def _with_authorisation(
    session: Session, draft: DossierDraft, procedure: Procedure, citizen: dict[str, str]
) -> dict[str, str]:
    """The filing's parties, the proxy's authorisation named by its document (the upload, not a text typed)."""
    if not has_proxy(citizen):
        return {**citizen, "proxy_authorisation": ""}
    slot = authorisation_slot(document_slots(procedure.required_documents))
    files = session.scalars(
        select(DossierDocument).where(DossierDocument.draft_id == draft.id, DossierDocument.slot == slot.code)
    ).all()
    if not files:
        return citizen  # missing_documents has said so
    pages = sum(f.pages for f in files)
    return {**citizen, "proxy_authorisation": f"{slot.name.split(' (')[0]}: {pages} tr."}


def draft_for_key(session: Session, actor: Actor, idempotency_key: str) -> DossierDraft | None:
    """The actor's draft that holds this idempotency key, if any (a form posted to the old address)."""
    return session.scalar(
        select(DossierDraft).where(
            DossierDraft.idempotency_key == idempotency_key, DossierDraft.staff_account_id == actor.account_id
        )
    )


def dossier_of(session: Session, draft: DossierDraft) -> Dossier | None:
    return session.get(Dossier, draft.dossier_id) if draft.dossier_id else None


def require_open(draft: DossierDraft) -> None:
    if draft.state is DraftState.submitted:
        raise Conflict("Hồ sơ này đã được gửi; không sửa được bản nháp nữa")
    if draft.state is DraftState.discarded:
        raise Conflict("Bản nháp này đã bị hủy")


@contextmanager
def on_the_record(session: Session, draft_id: uuid.UUID | None, step: str) -> Iterator[None]:
    """A step on a draft that is refused (bad input, someone else's or no such draft, filed already)
    goes on the audit log, in its own transaction; nothing the step wrote is kept."""
    try:
        yield
    except DomainError as exc:
        if not exc.recorded:
            audit.record_refusal(
                session,
                "dossier.draft_refused",
                "dossier_draft",
                draft_id,
                partner_id=current_scope(session).partner_id,
                detail={"step": step, "error": exc.code, "fields": sorted(exc.field_errors)[:40]},
            )
            exc.recorded = True
        raise
