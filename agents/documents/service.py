"""Digitising the citizen's documents at the counter: check, scan, store, in that order.

An upload goes into one slot (a required document of the draft's procedure) and is
refused, with a clear message and an audit entry, unless every step passes:
size → type by content → virus scan (clamd) → pages → stored encrypted by content hash.
Nothing is stored before the scan says clean; clamd unreachable refuses the upload.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.documents import rules
from agents.documents.models import DossierDocument
from agents.dossiers import drafts
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.blob_store import BlobStore, FilesystemBlobStore
from portal.core.db import utcnow
from portal.core.errors import ExternalServiceError, NotFound
from portal.core.i18n import N_
from portal.core.scanner import ClamdScanner, Clean, Infected, ScannerUnavailable, UnscannableReason
from portal.core.settings import get_settings

log = logging.getLogger(__name__)


class ScanningUnavailable(ExternalServiceError):
    """clamd could not be asked: the file is refused, never stored unscanned."""

    code = "scanner_unavailable"

    def __init__(self) -> None:
        super().__init__(
            N_("Hệ thống quét virus đang không hoạt động nên chưa nhận được tệp; vui lòng thử lại sau ít phút"),
            retryable=True,
        )


@dataclass(frozen=True)
class SlotView:
    """A slot of the draft with the files already in it."""

    slot: rules.DocumentSlot
    files: list[DossierDocument]


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
    return [
        SlotView(slot, [f for f in files if f.slot == slot.code])
        for slot in rules.document_slots(procedure.required_documents)
    ]


@dataclass(frozen=True)
class Received:
    """A document as the receipt lists it."""

    name: str
    files: int
    pages: int


def received_with(session: Session, dossier_id: uuid.UUID, required_documents: list[str]) -> list[Received]:
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
    slot = next((s for s in rules.document_slots(procedure.required_documents) if s.code == slot_code), None)
    try:
        if slot is None:
            raise rules.UnknownSlot(slot_code)
        rules.check_size(data, get_settings().counter.document_max_bytes)
        kind = rules.check_type_accepted(data, slot.accepted)
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
            "dossier_draft",
            draft_id,
            partner_id=draft.partner_id,
            detail={
                "slot": slot_code[:80],
                "error": exc.code,
                "size": len(data),
                **({"signature": exc.signature} if isinstance(exc, rules.Infected) else {}),
            },
        )
        raise
    digest = (files or store()).put(data)
    document = DossierDocument(
        partner_id=draft.partner_id,
        draft_id=draft.id,
        slot=slot.code,
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
        detail={"draft": str(draft.id), "slot": slot.code, "sha256": digest, "type": kind.value, "pages": pages},
    )  # fmt: skip
    return document


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
