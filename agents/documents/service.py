"""Digitising the citizen's documents at the counter: check, scan, store, in that order.

An upload goes into one slot (a required document of the draft's procedure) and is
refused, with a clear message and an audit entry, unless every step passes:
size → type by content → virus scan (clamd) → pages → stored encrypted by content hash.
Nothing is stored before the scan says clean; clamd unreachable refuses the upload.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.documents import rules
from agents.documents.models import DossierDocument
from agents.dossiers import drafts, returning
from agents.dossiers.models import Dossier, DossierDraft
from agents.dossiers.rules import CCCD_PATTERN
from agents.procedures import service as procedures
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.blob_store import BlobStore, FilesystemBlobStore
from portal.core.crypto import blind_index, normalise_identifier
from portal.core.db import utcnow
from portal.core.errors import ExternalServiceError, NotFound, ValidationFailed
from portal.core.i18n import N_
from portal.core.scanner import ClamdScanner, Clean, Infected, ScannerUnavailable, UnscannableReason
from portal.core.settings import get_settings

log = logging.getLogger(__name__)
#: The slot of the citizen's signed request to withdraw a dossier (not one of a procedure's documents).
WITHDRAWAL_REQUEST = "withdrawal_request"


class ScanningUnavailable(ExternalServiceError):
    """clamd could not be asked: the file is refused, never stored unscanned."""

    code = "scanner_unavailable"

    def __init__(self) -> None:
        super().__init__(
            N_("Hệ thống quét virus đang không hoạt động nên chưa nhận được tệp; vui lòng thử lại sau ít phút"),
            retryable=True,
        )


class DigitisedState(str, enum.Enum):
    """Where a slot's document stands (số hóa)."""

    not_digitised = "not_digitised"  # nothing in the slot yet
    digitised = "digitised"  # uploaded or captured at this counter, for this filing
    reused = "reused"  # the citizen's file from an earlier dossier, by its content hash, no copy


STATE_LABELS = {
    DigitisedState.not_digitised: N_("Chưa số hóa"),
    DigitisedState.digitised: N_("Đã số hóa"),
    DigitisedState.reused: N_("Dùng lại bản đã số hóa"),
}


@dataclass(frozen=True)
class SlotView:
    """A slot of the draft with the files already in it, and the citizen's earlier files it may reuse."""

    slot: rules.DocumentSlot
    files: list[DossierDocument]
    reusable: list[DossierDocument] = field(default_factory=list)

    @property
    def state(self) -> DigitisedState:
        if not self.files:
            return DigitisedState.not_digitised
        if all(f.reused_from_id is not None for f in self.files):
            return DigitisedState.reused
        return DigitisedState.digitised


def scanner() -> ClamdScanner:
    return ClamdScanner.from_settings(get_settings().scanner)


def store() -> BlobStore:
    return FilesystemBlobStore.from_settings(get_settings().storage)


def slots_of(session: Session, actor: Actor, draft_id: uuid.UUID) -> list[SlotView]:
    draft = drafts.get_own(session, actor, draft_id)
    procedure = drafts.procedure_of(session, draft)
    files = session.scalars(
        select(DossierDocument).where(DossierDocument.draft_id == draft.id).order_by(DossierDocument.created_at)
    ).all()
    offers = reuse_offers(session, draft)
    return [
        SlotView(slot, [f for f in files if f.slot == slot.code], offers.get(slot.code, []))
        for slot in rules.document_slots(procedure.required_documents)
    ]


def reuse_offers(session: Session, draft: DossierDraft) -> dict[str, list[DossierDocument]]:
    """The owner's files from their earlier dossiers at this partner, by slot of this draft, latest
    first, one per content; only with the citizen's consent recorded for this filing (else none)."""
    if returning.consent_of(session, draft.id) is None:
        return {}
    number = normalise_identifier(drafts.values_of(draft).get("owner_id_number", ""))
    if not CCCD_PATTERN.match(number):
        return {}
    earlier = returning.earlier_dossiers(session, id_number_index=blind_index(number))
    if not earlier:
        return {}
    slots = {s.code for s in rules.document_slots(drafts.procedure_of(session, draft).required_documents)}
    held = set(session.scalars(select(DossierDocument.content_hash).where(DossierDocument.draft_id == draft.id)))
    rows = session.scalars(
        select(DossierDocument)
        .where(
            DossierDocument.dossier_id.in_([d.id for d in earlier]),
            DossierDocument.slot.in_(slots),
            DossierDocument.replaced_in_round.is_(None),
        )
        .order_by(DossierDocument.created_at.desc())
    ).all()
    offers: dict[str, list[DossierDocument]] = {}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.content_hash in held or (row.slot, row.content_hash) in seen:
            continue
        seen.add((row.slot, row.content_hash))
        offers.setdefault(row.slot, []).append(row)
    return offers


def reuse(
    session: Session,
    actor: Actor,
    draft_id: uuid.UUID,
    slot_code: str,
    document_id: uuid.UUID,
    *,
    files: BlobStore | None = None,
) -> DossierDocument:
    """Put the citizen's earlier file into a slot of the open draft: a new row naming the same stored
    file by its content hash (no copy). Only a file `reuse_offers` offers for that slot, with consent."""
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    returning.require_consent(session, draft)
    original = next((d for d in reuse_offers(session, draft).get(slot_code, []) if d.id == document_id), None)
    if original is None:
        raise NotFound("Không tìm thấy giấy tờ đã số hóa này của công dân")
    if not (files or store()).exists(original.content_hash):
        raise ValidationFailed(N_("Tệp đã số hóa không còn trong kho lưu trữ; hãy số hóa lại"))
    document = DossierDocument(
        partner_id=draft.partner_id,
        draft_id=draft.id,
        slot=slot_code,
        content_hash=original.content_hash,
        content_type=original.content_type,
        size_bytes=original.size_bytes,
        pages=original.pages,
        file_name=original.file_name,
        uploaded_by=actor.account_id,
        reused_from_id=original.id,
    )
    session.add(document)
    draft.saved_at = utcnow()
    drafts.touch(draft, draft.saved_at)
    session.flush()
    audit.record(
        session, "document.reused", "dossier_document", document.id, partner_id=draft.partner_id,
        detail={"draft": str(draft.id), "slot": slot_code, "sha256": original.content_hash,
                "reused_from": str(original.id), "from_dossier": str(original.dossier_id)},
    )  # fmt: skip
    return document


@dataclass(frozen=True)
class Received:
    """A document as the receipt lists it."""

    name: str
    files: int
    pages: int


def received_with(
    session: Session, dossier_id: uuid.UUID, required_documents: Sequence[Mapping[str, Any] | str]
) -> list[Received]:
    """The documents a filed dossier came with, in the procedure's order."""
    files = session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier_id)).all()
    out = []
    for slot in rules.document_slots(required_documents):
        mine = [f for f in files if f.slot == slot.code]
        if mine:
            out.append(Received(slot.name, len(mine), sum(f.pages for f in mine)))
    return out


def upload(
    session: Session,
    actor: Actor,
    draft_id: uuid.UUID,
    slot_code: str,
    data: bytes,
    file_name: str = "",
    *,
    clamd: ClamdScanner | None = None,
    files: BlobStore | None = None,
) -> DossierDocument:
    """Check, scan and store one file (one or many pages) into a slot of the actor's open draft.

    A refusal (`rules.DocumentRefused`, or `ScanningUnavailable`) is recorded on the
    audit log in its own transaction and raised; nothing of the file is kept.
    """
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    procedure = drafts.procedure_of(session, draft)
    slot = _slot(procedure.required_documents, slot_code)
    kind, pages = _checked(session, data, slot, slot_code, "dossier_draft", draft.id, draft.partner_id, clamd)
    digest = (files or store()).put(data)
    document = DossierDocument(
        partner_id=draft.partner_id,
        draft_id=draft.id,
        slot=slot_code,
        content_hash=digest,
        content_type=kind.value,
        size_bytes=len(data),
        pages=pages,
        file_name=(file_name or "")[:200],
        uploaded_by=actor.account_id,
    )
    session.add(document)
    draft.saved_at = utcnow()  # the draft has something in it now: listed, resumed, never silently reused
    drafts.touch(draft, draft.saved_at)
    session.flush()
    audit.record(
        session, "document.stored", "dossier_document", document.id, partner_id=draft.partner_id,
        detail={"draft": str(draft.id), "slot": slot_code, "sha256": digest, "type": kind.value, "pages": pages},
    )  # fmt: skip
    return document


def replace(
    session: Session,
    actor: Actor,
    draft_id: uuid.UUID,
    slot_code: str,
    data: bytes,
    file_name: str = "",
    *,
    clamd: ClamdScanner | None = None,
    files: BlobStore | None = None,
) -> DossierDocument:
    """The slot holds this file now (a partner system's PUT): checked, scanned and stored as `upload`
    does, then the slot's earlier files are taken out. Refused: the slot keeps what it had."""
    document = upload(session, actor, draft_id, slot_code, data, file_name, clamd=clamd, files=files)
    earlier = session.scalars(
        select(DossierDocument).where(
            DossierDocument.draft_id == document.draft_id,
            DossierDocument.slot == slot_code,
            DossierDocument.id != document.id,
        )
    ).all()
    for old in earlier:
        session.delete(old)
        audit.record(
            session, "document.removed", "dossier_document", old.id, partner_id=old.partner_id,
            detail={"draft": str(document.draft_id), "slot": slot_code, "replaced_by": str(document.id)},
        )  # fmt: skip
    session.flush()
    return document


def _slot(required_documents: Sequence[Mapping[str, Any] | str], slot_code: str) -> rules.DocumentSlot | None:
    return next((s for s in rules.document_slots(required_documents) if s.code == slot_code), None)


def _checked(
    session: Session,
    data: bytes,
    slot: rules.DocumentSlot | None,
    slot_code: str,
    object_type: str,
    object_id: uuid.UUID,
    partner_id: uuid.UUID,
    clamd: ClamdScanner | None,
    accepted: frozenset[rules.DocumentType] | None = None,
) -> tuple[rules.DocumentType, int]:
    """Size, type by content, virus scan, pages: (type, pages), or the refusal recorded on the audit log and raised."""
    try:
        if slot is None and accepted is None:
            raise rules.UnknownSlot(slot_code)
        rules.check_size(data, get_settings().counter.document_max_bytes)
        kind = rules.check_type_accepted(data, accepted if slot is None else slot.accepted)  # type: ignore[arg-type]
        try:
            verdict = (clamd or scanner()).scan(data)
        except ScannerUnavailable as exc:
            log.error("upload refused, clamd unreachable: %s", exc)
            raise ScanningUnavailable() from exc
        if isinstance(verdict, Infected):
            raise rules.Infected(verdict.signature)
        if not isinstance(verdict, Clean):
            if verdict.reason is UnscannableReason.TOO_LARGE:
                raise rules.FileTooLarge(len(data), get_settings().counter.document_max_bytes)
            raise rules.Unscannable(verdict.detail)
        pages = rules.count_pages(data, kind)
    except (rules.DocumentRefused, ScanningUnavailable) as exc:
        audit.record_refusal(
            session,
            "document.refused",
            object_type,
            object_id,
            partner_id=partner_id,
            detail={
                "slot": slot_code[:80],
                "error": exc.code,
                "size": len(data),
                **({"signature": exc.signature} if isinstance(exc, rules.Infected) else {}),
            },
        )
        exc.recorded = True
        raise
    return kind, pages


def add_to_dossier(
    session: Session,
    actor: Actor,
    dossier: Dossier,
    slot_code: str,
    data: bytes,
    file_name: str = "",
    *,
    supplement_round: int | None = None,
    clamd: ClamdScanner | None = None,
    files: BlobStore | None = None,
) -> DossierDocument:
    """Check, scan and store one file into a filed dossier: a slot of its procedure (a supplement), or
    `WITHDRAWAL_REQUEST` (the citizen's signed request). Refused like a counter upload, nothing kept."""
    procedure = procedures.filed_version(session, dossier.procedure_id, dossier.procedure_version_id)
    assert procedure is not None
    slot = _slot(procedure.required_documents, slot_code)
    accepted = rules.ANY_DOCUMENT if slot_code == WITHDRAWAL_REQUEST else None
    kind, pages = _checked(session, data, slot, slot_code, "dossier", dossier.id, dossier.partner_id, clamd, accepted)
    digest = (files or store()).put(data)
    document = DossierDocument(
        partner_id=dossier.partner_id,
        draft_id=None,
        dossier_id=dossier.id,
        slot=slot_code,
        content_hash=digest,
        content_type=kind.value,
        size_bytes=len(data),
        pages=pages,
        file_name=(file_name or "")[:200],
        uploaded_by=actor.account_id,
        supplement_round=supplement_round,
    )
    session.add(document)
    session.flush()
    audit.record(
        session, "document.stored", "dossier_document", document.id, partner_id=dossier.partner_id,
        detail={"dossier": str(dossier.id), "slot": slot_code, "sha256": digest, "type": kind.value, "pages": pages,
                "supplement_round": supplement_round},
    )  # fmt: skip
    return document


def store_image(
    session: Session,
    data: bytes,
    *,
    object_type: str,
    object_id: uuid.UUID,
    partner_id: uuid.UUID,
    purpose: str,
    clamd: ClamdScanner | None = None,
    files: BlobStore | None = None,
) -> tuple[rules.DocumentType, str]:
    """Check (size, JPEG or PNG by content), scan and store a picture that is no citizen's document (a point's
    premises): (type, content hash). Refused like a counter upload (`document.refused` on the record, as
    `purpose`), nothing kept."""
    kind, _ = _checked(session, data, None, purpose, object_type, object_id, partner_id, clamd, rules.IMAGES)
    return kind, (files or store()).put(data)


def read_stored(content_hash: str, files: BlobStore | None = None) -> bytes:
    return (files or store()).get(content_hash)


def slot_names(required_documents: Sequence[Mapping[str, Any] | str]) -> dict[str, str]:
    """A procedure's document slots, code -> name, in its order."""
    return {slot.code: slot.name for slot in rules.document_slots(required_documents)}


def of_dossier(session: Session, dossier_id: uuid.UUID) -> list[DossierDocument]:
    """Every file of a filed dossier, replaced ones included, oldest first."""
    return list(
        session.scalars(
            select(DossierDocument).where(DossierDocument.dossier_id == dossier_id).order_by(DossierDocument.created_at)
        )
    )


def remove(session: Session, actor: Actor, draft_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """Take a file out of the open draft (the stored bytes stay: other dossiers may hold the same content)."""
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    document = session.get(DossierDocument, document_id)
    if document is None or document.draft_id != draft.id:
        raise NotFound("Không tìm thấy giấy tờ")
    session.delete(document)
    audit.record(session, "document.removed", "dossier_document", document_id, partner_id=draft.partner_id)
    session.flush()
