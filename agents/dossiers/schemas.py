"""The JSON API's shapes for dossiers (in and out), as msgspec structs (OpenAPI at /schema)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from agents.dossiers.attention import is_overdue, supplement_count
from agents.dossiers.models import Dossier
from agents.notifications.models import Notification
from agents.procedures.calendar import VIETNAM_TIME


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
