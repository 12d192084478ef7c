"""The identity check at the counter: a record, not a checkbox.

The staff member looks at the person in front of them and at one identity document
(a CCCD read by eye or by its chip, VNeID at level 2, a passport), types the number it
shows, and the check is recorded only when that number is the one the filing names
for that party (the owner, or the proxy filing for them): which document, the number's
blind index, who checked, when. A number that does not match is refused and the refusal
audited; nothing is recorded as checked. Checking again replaces the party's check.

At submit the checks go with the dossier; a check whose number no longer matches the
filing (the owner's number was changed after it) stops the submit (`drafts.submit`).
"""

from __future__ import annotations

import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers import drafts
from agents.dossiers.models import DossierDraft, IdentityCheck, IdentityDocument
from agents.policy import Permission
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.crypto import blind_index, normalise_identifier
from portal.core.db import utcnow
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_

PARTIES = ("owner", "proxy")
DOCUMENT_LABELS = {
    IdentityDocument.cccd: N_("Thẻ căn cước / CCCD (xem trực tiếp)"),
    IdentityDocument.cccd_chip: N_("CCCD gắn chip (đọc chip)"),
    IdentityDocument.vneid_level2: N_("Tài khoản định danh điện tử VNeID mức 2"),
    IdentityDocument.passport: N_("Hộ chiếu"),
}
PARTY_LABELS = {"owner": N_("Chủ hồ sơ"), "proxy": N_("Người nộp thay")}


class IdentityMismatch(ValidationFailed):
    code = "identity_mismatch"


def _number_of(draft: DossierDraft, party: str) -> str:
    return normalise_identifier(drafts.values_of(draft).get(f"{party}_id_number", ""))


def record(
    session: Session, actor: Actor, draft_id: uuid.UUID, *, party: str, document_kind: str, number: str
) -> IdentityCheck:
    """Record that `party`'s identity was checked on a `document_kind` showing `number`.

    Refused (ValidationFailed, audited) when the party, the kind or the number is not valid, or
    the number differs from the one the draft names for that party.
    """
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    policy.require(actor, Permission.file_dossiers, partner_id=draft.partner_id)
    errors: dict[str, str] = {}
    if party not in PARTIES:
        errors["party"] = N_("Không hợp lệ")
    try:
        kind = IdentityDocument(document_kind)
    except ValueError:
        errors["document_kind"] = N_("Chọn loại giấy tờ đã xem")
    seen = normalise_identifier(number or "")
    if not seen:
        errors["number"] = N_("Bắt buộc nhập")
    elif party in PARTIES and not errors:
        expected = _number_of(draft, party)
        if not expected:
            errors[f"{party}_id_number"] = N_("Nhập số CCCD của người này trước khi kiểm tra giấy tờ")
        elif not hmac.compare_digest(seen, expected):
            errors["number"] = N_("Số trên giấy tờ không khớp với số CCCD đã nhập cho người này")
    if errors:
        audit.record_refusal(
            session, "identity.check_refused", "dossier_draft", draft.id, partner_id=draft.partner_id,
            detail={"party": party[:16], "document_kind": str(document_kind)[:16], "fields": sorted(errors)},
        )  # fmt: skip
        exc_class = IdentityMismatch if "number" in errors and seen else ValidationFailed
        refused = exc_class(N_("Chưa ghi nhận được việc kiểm tra giấy tờ tùy thân"), field_errors=errors)
        refused.recorded = True  # on the audit log already
        raise refused
    for previous in session.scalars(
        select(IdentityCheck).where(IdentityCheck.draft_id == draft.id, IdentityCheck.party == party)
    ):
        session.delete(previous)
    check = IdentityCheck(
        partner_id=draft.partner_id,
        draft_id=draft.id,
        party=party,
        document_kind=kind,
        number_index=blind_index(seen),
        checked_by=actor.account_id,
        checked_at=utcnow(),
    )
    session.add(check)
    draft.saved_at = utcnow()
    drafts.touch(draft, draft.saved_at)
    session.flush()
    audit.record(
        session, "identity.checked", "identity_check", check.id, partner_id=draft.partner_id,
        detail={"draft": str(draft.id), "party": party, "document_kind": kind.value},
    )  # fmt: skip
    return check


def checks_of(session: Session, draft_id: uuid.UUID) -> dict[str, IdentityCheck]:
    """The draft's checks by party."""
    rows = session.scalars(select(IdentityCheck).where(IdentityCheck.draft_id == draft_id))
    return {row.party: row for row in rows}
