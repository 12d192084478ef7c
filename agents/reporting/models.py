"""Rollup tables: the figures dashboards read, kept current per (point, local day) by `reporting.refresh`
and rebuilt nightly by `reporting.rebuild` from the same queries (agents/reporting/rollups.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped

_NO_STAFF = uuid.UUID(int=0)  # a dossier filed by no one we know (never, today): keeps the key NOT NULL


class PointDayFigures(TenantScoped, Base):
    """Dossiers filed at one point on one local day, by one staff member, for one procedure: where they stand now."""

    __tablename__ = "point_day_figures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    staff_account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    procedure_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    filed: Mapped[int] = mapped_column(Integer, default=0)
    not_forwarded: Mapped[int] = mapped_column(Integer, default=0)  # queued or forward_failed
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    status_none: Mapped[int] = mapped_column(Integer, default=0)
    status_1: Mapped[int] = mapped_column(Integer, default=0)
    status_2: Mapped[int] = mapped_column(Integer, default=0)
    status_3: Mapped[int] = mapped_column(Integer, default=0)
    status_4: Mapped[int] = mapped_column(Integer, default=0)
    status_5: Mapped[int] = mapped_column(Integer, default=0)
    status_6: Mapped[int] = mapped_column(Integer, default=0)
    status_7: Mapped[int] = mapped_column(Integer, default=0)
    status_8: Mapped[int] = mapped_column(Integer, default=0)
    status_9: Mapped[int] = mapped_column(Integer, default=0)
    status_10: Mapped[int] = mapped_column(Integer, default=0)
    supplement: Mapped[int] = mapped_column(
        Integer, default=0
    )  # the city asked for more documents (status 5) at least once
    # ... of which the point's own check missed something (agents/dossiers/supplements.py)
    agent_caused_supplement: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time: Mapped[int] = mapped_column(Integer, default=0)  # result (9) by the city's due date
    late: Mapped[int] = mapped_column(Integer, default=0)  # result after it
    counter_count: Mapped[int] = mapped_column(Integer, default=0)
    counter_seconds: Mapped[int] = mapped_column(Integer, default=0)
    counter_within_15: Mapped[int] = mapped_column(Integer, default=0)


class CounterTimeFigures(TenantScoped, Base):
    """How long dossiers took at the counter, in 30-second buckets (the last one: 30 minutes or more)."""

    __tablename__ = "counter_time_figures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    staff_account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class OpenDueFigures(TenantScoped, Base):
    """Dossiers still open, by the city's due date (overdue = due before today), by filing day."""

    __tablename__ = "open_due_figures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    due_day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RatingDayFigures(TenantScoped, Base):
    """Ratings counted in averages (not excluded), by point, staff member, local day and kind, in SIPAS levels."""

    __tablename__ = "rating_day_figures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    staff_account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    stars_sum: Mapped[int] = mapped_column(Integer, default=0)
    overall_vs: Mapped[int] = mapped_column(Integer, default=0)
    overall_s: Mapped[int] = mapped_column(Integer, default=0)
    overall_ns: Mapped[int] = mapped_column(Integer, default=0)
    attitude_vs: Mapped[int] = mapped_column(Integer, default=0)
    attitude_s: Mapped[int] = mapped_column(Integer, default=0)
    attitude_ns: Mapped[int] = mapped_column(Integer, default=0)
    time_vs: Mapped[int] = mapped_column(Integer, default=0)
    time_s: Mapped[int] = mapped_column(Integer, default=0)
    time_ns: Mapped[int] = mapped_column(Integer, default=0)
    back_vs: Mapped[int] = mapped_column(Integer, default=0)
    back_s: Mapped[int] = mapped_column(Integer, default=0)
    back_ns: Mapped[int] = mapped_column(Integer, default=0)


class ExportJob(IdMixin, TimestampMixin, TenantScoped, Base):
    """A dashboard table too large to send at once, built by `reporting.export` in the requester's scope.

    The requester watches its progress (rows_done of rows_total) and downloads the file once it is
    `done` (agents/reporting/export_jobs.py). Only the person who asked sees it.
    """

    __tablename__ = "export_jobs"

    # Null for the center's exports (a network scope); such rows are visible only to network scopes.
    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partners.id"), index=True)  # type: ignore[assignment]
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(4))  # csv | xlsx
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    agent_point_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    staff_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | running | done | failed
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    stored_as: Mapped[str | None] = mapped_column(String(200))  # the file's name in the exports folder
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
