"""Dossier (hồ sơ): one filing of one procedure for one owner, and its history."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.crypto import EncryptedText
from portal.core.db import Base, IdMixin, TimestampMixin, utcnow
from portal.core.tenancy import TenantScoped


class DossierState(str, enum.Enum):
    """Our own side of the exchange with the city system."""

    queued = "queued"  # saved; waiting to be forwarded to the city system
    forwarded = "forwarded"  # the city system accepted it and gave its dossier code
    rejected = "rejected"  # the city system refused it for good (reason kept)
    forward_failed = "forward_failed"  # the city could not take it after every attempt: the center sends it again


class CityStatus(enum.IntEnum):
    """DVCQG dossier status codes (TrangThaiHoSo)."""

    new = 1
    received = 2
    refused = 3
    processing = 4
    supplement_requested = 5
    payment_requested = 6
    withdrawn = 7
    stopped = 8
    processed = 9
    returned = 10

    @property
    def is_final(self) -> bool:
        return self in (CityStatus.refused, CityStatus.withdrawn, CityStatus.stopped, CityStatus.returned)

    @property
    def is_done(self) -> bool:
        """The city finished its work (result ready or returned)."""
        return self in (CityStatus.processed, CityStatus.returned)


class Dossier(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "dossiers"
    __table_args__ = (UniqueConstraint("partner_id", "idempotency_key"),)

    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"))
    # The catalogue version it was filed under: shown and priced by it for good (set on every filing;
    # migration 0015 gave every older dossier its procedure's version 1).
    procedure_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    staff_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))

    owner_full_name: Mapped[str] = mapped_column(String(200))
    owner_id_number: Mapped[str] = mapped_column(EncryptedText)
    owner_id_number_index: Mapped[str] = mapped_column(String(40), index=True)
    owner_birth_date: Mapped[date] = mapped_column(Date)
    owner_phone: Mapped[str] = mapped_column(EncryptedText)
    owner_phone_index: Mapped[str] = mapped_column(String(40), index=True)
    owner_address: Mapped[str] = mapped_column(String(300))

    proxy_full_name: Mapped[str | None] = mapped_column(String(200))
    proxy_id_number: Mapped[str | None] = mapped_column(EncryptedText)
    proxy_phone: Mapped[str | None] = mapped_column(EncryptedText)
    proxy_address: Mapped[str | None] = mapped_column(String(300))
    proxy_authorisation: Mapped[str | None] = mapped_column(String(300))

    form_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # How the citizen chose to be told of status changes (agents/notifications): by SMS to
    # owner_phone, by email to this address, both, or neither.
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_email: Mapped[str | None] = mapped_column(EncryptedText)

    state: Mapped[DossierState] = mapped_column(
        Enum(DossierState, native_enum=False, length=16), default=DossierState.queued, index=True
    )
    city_status: Mapped[int | None] = mapped_column(Integer, index=True)
    city_status_seq: Mapped[int] = mapped_column(Integer, default=0)
    city_dossier_code: Mapped[str | None] = mapped_column(String(60), index=True)
    forward_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    forwarded_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]  # city status 9 reached (result ready)
    returned_at: Mapped[datetime | None]  # city status 10 reached
    # Time at the counter: the draft open in front of the staff member, from opening to submit
    # (agents/dossiers/drafts.py); None for a dossier filed without a draft.
    counter_seconds: Mapped[int | None] = mapped_column(Integer)
    # Ours, in working days from the procedure's processing time (agents/procedures/calendar.py);
    # `due_at` is the city's own, when it sends one.
    expected_result_date: Mapped[date | None] = mapped_column(Date)
    # The city asked for more documents a second time: a breach of its at-most-once rule
    # (agents/dossiers/supplements.py); the center lists every such dossier.
    supplement_breach: Mapped[bool] = mapped_column(Boolean, default=False)
    # Someone marked the city's request for more documents as the point's own miss (the completeness
    # check should have caught it): counted against the point's quality figures.
    agent_caused_supplement_at: Mapped[datetime | None]
    agent_caused_supplement_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))

    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", order_by="DossierEvent.occurred_at", lazy="selectin"
    )

    @property
    def timeline(self) -> list[DossierEvent]:
        """History in the order things happened.

        The city reports whole seconds, so within one second our own steps
        (filed, forwarded) come first, then the city's by its sequence number.
        """
        return sorted(
            self.events,
            key=lambda e: (e.occurred_at.replace(microsecond=0), e.source != "portal", e.city_seq or 0, e.recorded_at),
        )


class DraftState(str, enum.Enum):
    open = "open"  # being typed at the counter
    submitted = "submitted"  # became the dossier `dossier_id`, once
    discarded = "discarded"  # the staff member threw it away


class DossierDraft(IdMixin, TimestampMixin, TenantScoped, Base):
    """A dossier being typed at the counter: saved as it is typed, filed once (agents/dossiers/drafts.py).

    The server gives it its idempotency key when the procedure is picked, so every submit
    of this draft (a double click, a retry, Back and submit again) files the same dossier.
    """

    __tablename__ = "dossier_drafts"
    __table_args__ = (UniqueConstraint("partner_id", "idempotency_key"),)

    idempotency_key: Mapped[str] = mapped_column(String(64))
    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"))
    staff_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    # What was typed, field by field as the form names them, sealed like the other personal data.
    values_sealed: Mapped[str] = mapped_column(EncryptedText, default="{}")
    state: Mapped[DraftState] = mapped_column(
        Enum(DraftState, native_enum=False, length=16), default=DraftState.open, index=True
    )
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"))
    # Where it will be filed, when known from the start: a partner system's draft is its client's
    # point, and only an actor who may file there reaches it (None: the counter page names it at submit).
    agent_point_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_points.id"))
    saved_at: Mapped[datetime | None]  # last save of what was typed (None: nothing typed yet)
    # The counter timer: seconds the draft was open in front of someone, and the last sign of it.
    active_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_active_at: Mapped[datetime | None]


class CitizenConsent(IdMixin, TimestampMixin, TenantScoped, Base):
    """A citizen's consent, recorded for one filing: who gave it, when, to which text (agents/dossiers/returning.py).

    The consent lets this filing look up the citizen's earlier dossiers at this partner (to prefill)
    and offer their digitised documents for reuse; without it, neither happens.
    """

    __tablename__ = "citizen_consents"

    draft_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier_drafts.id"), index=True)
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)  # set at submit
    given_by: Mapped[str] = mapped_column(String(16))  # "owner" or "proxy": the citizen in front of the counter
    text_version: Mapped[str] = mapped_column(String(20))  # the consent text read to them (returning.CONSENT_TEXTS)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityDocument(str, enum.Enum):
    """What the staff member saw to check who is in front of the counter."""

    cccd = "cccd"  # căn cước công dân / căn cước, read by eye
    cccd_chip = "cccd_chip"  # its chip read by a reader (NFC)
    vneid_level2 = "vneid_level2"  # the VNeID app, identity account level 2
    passport = "passport"


class IdentityCheck(IdMixin, TimestampMixin, TenantScoped, Base):
    """The identity check of one party of a filing: which document was seen, its number matched against
    that party's, who checked and when (agents/dossiers/identity.py). A number that does not match is
    refused, never recorded as checked."""

    __tablename__ = "identity_checks"

    draft_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier_drafts.id"), index=True)
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)  # set at submit
    party: Mapped[str] = mapped_column(String(16))  # "owner" or "proxy"
    document_kind: Mapped[IdentityDocument] = mapped_column(Enum(IdentityDocument, native_enum=False, length=16))
    number_index: Mapped[str] = mapped_column(String(40))  # blind index of the number read from the document
    checked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class DossierEvent(IdMixin, TenantScoped, Base):
    """One step of a dossier's history: who, what, when. Never updated."""

    __tablename__ = "dossier_events"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # "portal" or "city"
    state: Mapped[str | None] = mapped_column(String(16))
    city_status: Mapped[int | None] = mapped_column(Integer)
    city_event_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    city_seq: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    # A city report that could not follow the dossier's status (agents.dossiers.rules.CITY_TRANSITIONS):
    # kept in the history, applied to nothing. The status it could not follow (0: none yet).
    refused_after: Mapped[int | None] = mapped_column(Integer)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class CityRequestKind(str, enum.Enum):
    supplement = "supplement"  # the documents the city asked for (status 5), back through its supplement operation
    withdrawal = "withdrawal"  # the citizen's signed request to withdraw, through the city's withdrawal operation


class CityRequestState(str, enum.Enum):
    pending = "pending"  # written with the staff member's action; waiting for its (next) attempt
    sending = "sending"  # a worker holds it until lease_until
    sent = "sent"  # the city took it (or had already: an answer lost on the way back)
    refused = "refused"  # the city will not take it (its reason kept)


class CityRequest(IdMixin, TimestampMixin, TenantScoped, Base):
    """One operation we owe the city about a dossier, sent after commit, at most once (agents/dossiers/city_requests.py).

    The unique key (dossier, kind, round) is "once": round n of a supplement answers the
    city's n-th request for more documents; a withdrawal has round 1 only.
    """

    __tablename__ = "city_requests"
    __table_args__ = (UniqueConstraint("dossier_id", "kind", "round"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[CityRequestKind] = mapped_column(Enum(CityRequestKind, native_enum=False, length=16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    state: Mapped[CityRequestState] = mapped_column(
        Enum(CityRequestState, native_enum=False, length=16), default=CityRequestState.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class CityPoll(TenantScoped, Base):
    """The poller's turn for one silent dossier (agents/dossiers/city_status.claim_silent_dossiers).

    Each poll that brings no news doubles the wait before the next one, up to a ceiling, so a
    dossier the city never reports on costs a question every few hours, not every sweep.
    """

    __tablename__ = "city_polls"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    polls: Mapped[int] = mapped_column(Integer, default=1)  # in a row since the city last had news
    last_polled_at: Mapped[datetime]
    next_poll_at: Mapped[datetime] = mapped_column(index=True)


class FollowUpKind(str, enum.Enum):
    tell_result_ready = "tell_result_ready"  # status 9: call or tell the citizen the result is ready


class FollowUp(IdMixin, TimestampMixin, TenantScoped, Base):
    """A task for the point's staff about one dossier (agents/dossiers/follow_ups.py)."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("dossier_id", "kind"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    kind: Mapped[FollowUpKind] = mapped_column(Enum(FollowUpKind, native_enum=False, length=32))
    done_at: Mapped[datetime | None]
    done_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    # "done" by a staff member, or "returned": the city returned the result (10), which closes the task.
    closed_reason: Mapped[str | None] = mapped_column(String(16))
