"""The JSON API's shapes for dossiers (in and out), as msgspec structs (OpenAPI at /schema)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from agents.documents.models import DossierDocument
from agents.dossiers.attention import is_overdue, supplement_count
from agents.dossiers.models import Dossier, DossierDraft, IdentityCheck
from agents.notifications.models import Notification
from agents.procedures.calendar import VIETNAM_TIME
from portal.core.i18n import N_


class NotifyIn(msgspec.Struct):
    """How the citizen wants to be told of status changes: SMS to the owner's phone, and/or email."""

    sms: bool = False
    email: str | None = None


class DossierIn(msgspec.Struct):
    procedure_code: str
    idempotency_key: str
    citizen: dict[str, str]
    form: dict[str, Any] = {}
    # Optional: a partner system's client files at the point it is bound to; a person
    # assigned to several points names one (422 otherwise).
    agent_point_id: uuid.UUID | None = None
    notify: NotifyIn | None = None


class TrackIn(msgspec.Struct):
    tracking_code: str
    phone: str


class StatusEventOut(msgspec.Struct):
    occurred_at: datetime
    source: str
    state: str | None
    city_status: int | None
    note: str


class NotificationOut(msgspec.Struct):
    """One message to the citizen: its channel, the city status it tells of, where it stands."""

    channel: str
    status: int
    state: str
    sent_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationOut:
        return cls(row.channel.value, row.city_status, row.state.value, row.accepted_at)


class DossierOut(msgspec.Struct):
    id: uuid.UUID
    tracking_code: str
    state: str
    city_status: int | None
    city_dossier_code: str | None
    submitted_at: datetime
    due_at: datetime | None
    events: list[StatusEventOut]
    agent_point_id: uuid.UUID | None = None
    notifications: list[NotificationOut] = []
    # The city's due date (Vietnam's calendar day), whether it has passed with the city not finished,
    # and how many times the city asked for more documents (at most once is the rule).
    due_date: date | None = None
    overdue: bool = False
    supplement_count: int = 0
    # The city asked more than once (its rule is at most once): the center lists these.
    supplement_breach: bool = False
    # Ours, in working days from the procedure version's processing time (the receipt shows it).
    expected_result_date: date | None = None

    @classmethod
    def of(cls, dossier: Dossier, notifications: list[Notification] | None = None) -> DossierOut:
        return cls(
            id=dossier.id,
            tracking_code=dossier.tracking_code,
            state=dossier.state.value,
            city_status=dossier.city_status,
            city_dossier_code=dossier.city_dossier_code,
            submitted_at=dossier.submitted_at,
            due_at=dossier.due_at,
            events=[StatusEventOut(e.occurred_at, e.source, e.state, e.city_status, e.note) for e in dossier.timeline],
            agent_point_id=dossier.agent_point_id,
            notifications=[NotificationOut.of(n) for n in notifications or []],
            due_date=dossier.due_at.astimezone(VIETNAM_TIME).date() if dossier.due_at else None,
            overdue=is_overdue(dossier),
            supplement_count=supplement_count(dossier),
            supplement_breach=dossier.supplement_breach,
            expected_result_date=dossier.expected_result_date,
        )


class DossierSummaryOut(msgspec.Struct):
    id: uuid.UUID
    tracking_code: str
    agent_point_id: uuid.UUID
    state: str
    city_status: int | None
    city_dossier_code: str | None
    submitted_at: datetime
    due_at: datetime | None

    @classmethod
    def of(cls, d: Dossier) -> DossierSummaryOut:
        return cls(
            d.id,
            d.tracking_code,
            d.agent_point_id,
            d.state.value,
            d.city_status,
            d.city_dossier_code,
            d.submitted_at,
            d.due_at,
        )


# -- drafts (POST/PATCH/GET /api/v1/drafts…): the counter's draft, for partner systems ------------------
#
# The draft keeps what is typed under the page's own names (owner_full_name, proxy_phone,
# form.<field>, notify_sms, notify_email: agents/dossiers/drafts.py); the API speaks in blocks
# (owner.full_name, proxy.phone, form.<field>, notify.sms). These say one in the other.

OWNER_FIELDS = ("full_name", "id_number", "birth_date", "phone", "address")
PROXY_FIELDS = ("full_name", "id_number", "phone", "address")  # the authorisation is a document slot


NOT_IN_BLOCK = N_("Trường không có trong biểu mẫu (văn bản ủy quyền là một giấy tờ: gửi vào ô của nó)")


def api_name(name: str) -> str:
    """A draft's name for a value (or a field error's key) as the API says it: owner_phone → owner.phone."""
    for block in ("owner", "proxy", "notify"):
        if name.startswith(f"{block}_"):
            return f"{block}.{name[len(block) + 1 :]}"
    return name


def api_names(errors: dict[str, Any]) -> dict[str, Any]:
    return {api_name(k): v for k, v in errors.items()}


class DraftIn(msgspec.Struct):
    """A new draft: the procedure, and any of the rest (it can all come later with PATCH)."""

    procedure_code: str
    owner: dict[str, str | None] | None = None  # full_name, id_number, birth_date (YYYY-MM-DD), phone, address
    proxy: dict[str, str | None] | None = None  # full_name, id_number, phone, address (nộp thay)
    form: dict[str, Any] | None = None  # the procedure's own fields (its form_schema in GET /api/v1/procedures)
    notify: NotifyIn | None = None
    # Optional: a partner system's client drafts at the point it is bound to; a person at several names one.
    agent_point_id: uuid.UUID | None = None


class DraftChangeIn(msgspec.Struct):
    """Changes to a draft: a value replaces, null removes, a block or field left out stays as it is;
    `notify` is one choice and is replaced whole."""

    owner: dict[str, str | None] | None = None
    proxy: dict[str, str | None] | None = None
    form: dict[str, Any] | None = None
    notify: NotifyIn | None = None


def draft_changes(data: DraftIn | DraftChangeIn) -> tuple[dict[str, str | None], dict[str, str]]:
    """The changes in the draft's own names, and the field errors of values that are no single value."""
    changes: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for block, given, known in (("owner", data.owner, OWNER_FIELDS), ("proxy", data.proxy, PROXY_FIELDS)):
        for key, value in (given or {}).items():
            if key not in known:
                errors[f"{block}.{key}"] = NOT_IN_BLOCK
            else:
                changes[f"{block}_{key}"] = value
    for key, value in (data.form or {}).items():
        if isinstance(value, dict | list):
            errors[f"form.{key}"] = N_("Phải là một giá trị (chữ hoặc số), không phải danh sách hay đối tượng")
        elif value is None:
            changes[f"form.{key}"] = None
        else:
            changes[f"form.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    if data.notify is not None:
        changes["notify_sms"] = "on" if data.notify.sms else None
        changes["notify_email"] = data.notify.email
    return changes, errors


class StoredDocumentOut(msgspec.Struct):
    """A file stored in a slot: its id, the SHA-256 of its content, its type by content, its pages."""

    id: uuid.UUID
    slot: str
    hash: str
    type: str
    pages: int
    size_bytes: int

    @classmethod
    def of(cls, row: DossierDocument) -> StoredDocumentOut:
        return cls(row.id, row.slot, row.content_hash, row.content_type, row.pages, row.size_bytes)


class DraftSlotOut(msgspec.Struct):
    slot: str
    name: str
    mandatory: bool
    files: list[StoredDocumentOut]


class IdentityCheckIn(msgspec.Struct):
    """Which document was seen (cccd, cccd_chip, vneid_level2, passport), the personal identification
    number read from it, and whose it is: the owner's (default) or the proxy's."""

    document_kind: str
    number: str
    party: str = "owner"


class IdentityCheckOut(msgspec.Struct):
    party: str
    document_kind: str
    matched: bool  # the number still matches the party's (false: changed since; check again before submit)
    checked_by: uuid.UUID  # the account that recorded it (a partner system: its accountable person)
    checked_at: datetime

    @classmethod
    def of(cls, row: IdentityCheck, matched: bool) -> IdentityCheckOut:
        return cls(row.party, row.document_kind.value, matched, row.checked_by, row.checked_at)


class DraftOut(msgspec.Struct):
    id: uuid.UUID
    procedure_code: str
    procedure_version: int
    state: str  # open, submitted (then `dossier_id`), discarded
    agent_point_id: uuid.UUID | None
    owner: dict[str, str]
    proxy: dict[str, str]
    form: dict[str, str]
    notify: NotifyIn
    documents: list[DraftSlotOut]
    identity_checks: list[IdentityCheckOut]  # one per party checked (owner, proxy)
    missing: list[str]  # what submit still needs: owner.*, proxy.* (once begun), form.*, documents.<slot>
    dossier_id: uuid.UUID | None
    saved_at: datetime | None
    active_seconds: int

    @classmethod
    def of(
        cls,
        draft: DossierDraft,
        values: dict[str, str],
        *,
        procedure_code: str,
        version: int,
        slots: list[DraftSlotOut],
        checks: list[IdentityCheckOut],
        missing: list[str],
    ) -> DraftOut:
        def block(name: str, fields: tuple[str, ...]) -> dict[str, str]:
            return {f: values[f"{name}_{f}"] for f in fields if values.get(f"{name}_{f}")}

        return cls(
            id=draft.id,
            procedure_code=procedure_code,
            procedure_version=version,
            state=draft.state.value,
            agent_point_id=draft.agent_point_id,
            owner=block("owner", OWNER_FIELDS),
            proxy=block("proxy", PROXY_FIELDS),
            form={k.removeprefix("form."): v for k, v in values.items() if k.startswith("form.")},
            notify=NotifyIn(sms=values.get("notify_sms") == "on", email=values.get("notify_email") or None),
            documents=slots,
            identity_checks=checks,
            missing=[api_name(m) for m in missing],
            dossier_id=draft.dossier_id,
            saved_at=draft.saved_at,
            active_seconds=draft.active_seconds or 0,
        )
