"""A returning citizen at the counter: found among this partner's earlier dossiers, with their consent.

Nothing about a citizen's earlier filings is looked at unless the citizen consented, for this
filing, to the text read to them (`CONSENT_TEXTS`, by version): the consent is a record (who gave
it, owner or proxy; which text; which staff member recorded it, when). Then the staff member
types the owner's CCCD number or phone number; it is found by its blind index (the numbers are
stored encrypted) among this partner's dossiers only: the session's tenancy scope, and row-level
security under it on PostgreSQL, keep every other partner's citizens out of reach. Every look-up
is on the audit log, found or not, without the number itself.

What is found prefills the draft: the owner block from the latest earlier dossier, and each form
field this procedure shares (by name) with an earlier filing, the latest one that has it.
Prefilling never overwrites what was already typed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers import drafts, rules
from agents.dossiers.models import CitizenConsent, Dossier, DossierDraft
from agents.policy import Permission
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.crypto import blind_index, normalise_identifier
from portal.core.db import utcnow
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.i18n import N_

#: The consent texts read to the citizen, by version; a new wording is a new version, never an edit.
CONSENT_TEXTS = {
    "2026-12": N_(
        "Tôi đồng ý để điểm đại lý tra cứu các hồ sơ tôi đã nộp qua đối tác này, điền sẵn thông tin "
        "từ các hồ sơ đó và dùng lại các giấy tờ đã số hóa của tôi cho hồ sơ này."
    ),
}
CURRENT_CONSENT = "2026-12"
CONSENTING_PARTIES = ("owner", "proxy")
EARLIER_DOSSIERS = 20  # the latest ones looked at for shared form fields
OWNER_FIELDS = rules.CITIZEN_FIELDS


class ConsentRequired(PermissionDenied):
    code = "consent_required"

    def __init__(self) -> None:
        super().__init__(N_("Cần ghi nhận sự đồng ý của công dân trước khi tra cứu hồ sơ cũ hoặc dùng lại giấy tờ"))


@dataclass(frozen=True)
class Found:
    """What a look-up found: the latest earlier dossier (None: a new citizen) and the fields prefilled."""

    dossier: Dossier | None
    prefilled: list[str] = field(default_factory=list)
    earlier: int = 0


def record_consent(
    session: Session, actor: Actor, draft_id: uuid.UUID, *, given_by: str, text_version: str = CURRENT_CONSENT
) -> CitizenConsent:
    """Record the citizen's consent for this filing (again: the latest is the one that counts)."""
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    policy.require(actor, Permission.file_dossiers, partner_id=draft.partner_id)
    errors = {}
    if given_by not in CONSENTING_PARTIES:
        errors["consent_given_by"] = N_("Chọn người đồng ý")
    if text_version not in CONSENT_TEXTS:
        errors["consent_text_version"] = N_("Không hợp lệ")
    if errors:
        raise ValidationFailed(N_("Chưa ghi nhận được sự đồng ý"), field_errors=errors)
    consent = CitizenConsent(
        partner_id=draft.partner_id,
        draft_id=draft.id,
        given_by=given_by,
        text_version=text_version,
        recorded_by=actor.account_id,
        recorded_at=utcnow(),
    )
    session.add(consent)
    session.flush()
    audit.record(
        session, "citizen.consent_recorded", "citizen_consent", consent.id, partner_id=draft.partner_id,
        detail={"draft": str(draft.id), "given_by": given_by, "text_version": text_version},
    )  # fmt: skip
    return consent


def consent_of(session: Session, draft_id: uuid.UUID) -> CitizenConsent | None:
    return session.scalar(
        select(CitizenConsent)
        .where(CitizenConsent.draft_id == draft_id)
        .order_by(CitizenConsent.recorded_at.desc())
        .limit(1)
    )


def require_consent(session: Session, draft: DossierDraft) -> CitizenConsent:
    consent = consent_of(session, draft.id)
    if consent is None:
        raise ConsentRequired()
    return consent


def identifier_index(identifier: str) -> tuple[str, str]:
    """("id_number" | "phone", blind index) of what was typed; ValidationFailed if it is neither."""
    typed = (identifier or "").strip()
    digits = normalise_identifier(typed)
    if rules.CCCD_PATTERN.match(digits):
        return "id_number", blind_index(digits)
    phone = rules.normalise_phone(typed)
    if rules.PHONE_PATTERN.match(phone):
        return "phone", blind_index(phone)
    raise ValidationFailed(
        N_("Nhập số CCCD (12 chữ số) hoặc số điện thoại của chủ hồ sơ"),
        field_errors={"identifier": N_("Không phải số CCCD hay số điện thoại")},
    )


def earlier_dossiers(
    session: Session, *, id_number_index: str | None = None, phone_index: str | None = None
) -> list[Dossier]:
    """This partner's latest dossiers of the citizen (the session's scope is the wall)."""
    conditions = []
    if id_number_index:
        conditions.append(Dossier.owner_id_number_index == id_number_index)
    if phone_index:
        conditions.append(Dossier.owner_phone_index == phone_index)
    if not conditions:
        return []
    return list(
        session.scalars(
            select(Dossier).where(or_(*conditions)).order_by(Dossier.submitted_at.desc()).limit(EARLIER_DOSSIERS)
        )
    )


def look_up(session: Session, actor: Actor, draft_id: uuid.UUID, identifier: str) -> Found:
    """Find the owner by CCCD or phone among this partner's earlier dossiers and prefill the draft.

    Needs the citizen's consent recorded for this draft (ConsentRequired otherwise); audited.
    """
    draft = drafts.get_own(session, actor, draft_id)
    drafts.require_open(draft)
    policy.require(actor, Permission.file_dossiers, partner_id=draft.partner_id)
    consent = consent_of(session, draft.id)
    if consent is None:
        audit.record_refusal(
            session, "citizen.lookup_refused", "dossier_draft", draft.id, partner_id=draft.partner_id,
            detail={"reason": "no_consent"},
        )  # fmt: skip
        raise ConsentRequired()
    by, index = identifier_index(identifier)
    earlier = earlier_dossiers(session, **{f"{by}_index": index})
    found = Found(None)
    if earlier:
        found = Found(earlier[0], _prefill(session, actor, draft, earlier), len(earlier))
    audit.record(
        session, "citizen.looked_up", "dossier_draft", draft.id, partner_id=draft.partner_id,
        detail={"by": by, "found": len(earlier), "dossier": str(earlier[0].id) if earlier else None,
                "consent": str(consent.id), "prefilled": len(found.prefilled)},
    )  # fmt: skip
    return found


def consent_and_look_up(
    session: Session, actor: Actor, draft_id: uuid.UUID, identifier: str, *, consent_given_by: str | None
) -> Found:
    """The counter's one step: the consent just given (if `consent_given_by`), then the look-up.

    What was typed is checked before anything is written, so a refusal records no consent.
    """
    identifier_index(identifier)
    if consent_given_by is not None:
        record_consent(session, actor, draft_id, given_by=consent_given_by)
    return look_up(session, actor, draft_id, identifier)


def _shown(value: Any) -> str:
    """A value as the counter's form shows it (dates typed dd/mm/yyyy)."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if rules.ISO_DATE_PATTERN.match(text):
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    return text


def _prefill(session: Session, actor: Actor, draft: DossierDraft, earlier: list[Dossier]) -> list[str]:
    latest = earlier[0]
    values = drafts.values_of(draft)
    offered: dict[str, str] = {name: _shown(getattr(latest, name)) for name in OWNER_FIELDS}
    properties: dict[str, Any] = drafts.procedure_of(session, draft).form_schema.get("properties", {})
    for name, spec in properties.items():
        for dossier in earlier:
            if (value := (dossier.form_data or {}).get(name)) not in (None, ""):
                offered[f"form.{name}"] = _shown(value) if spec.get("format") == "date" else str(value)
                break
    prefilled = [name for name, value in offered.items() if value and not values.get(name)]
    if prefilled:
        drafts.save(session, actor, draft.id, {**values, **{name: offered[name] for name in prefilled}})
    return prefilled
