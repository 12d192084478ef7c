"""Procedure (TTHC) catalogue: city-owned reference data, NOT tenant-scoped.

Published by the center; every partner files against the same catalogue.
`form_schema` is a JSON Schema (draft 2020-12) of the procedure's own fields.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin, utcnow


class Procedure(IdMixin, TimestampMixin, Base):
    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(20), unique=True)  # national code (mã TTHC)
    name: Mapped[str] = mapped_column(String(300))
    field_code: Mapped[str] = mapped_column(String(40))
    field_name: Mapped[str] = mapped_column(String(200))
    handled_by: Mapped[str] = mapped_column(String(200))
    processing_days: Mapped[int] = mapped_column(Integer)  # legal time, in working days
    fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    fee_note: Mapped[str] = mapped_column(Text, default="")
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=True)


class CalendarOverride(Base):
    """A day the center decrees off, or worked, on top of the `holidays` package's Vietnam calendar.

    Center-owned reference data, like the catalogue (not tenant-scoped); read by
    `service.working_calendar` into `calendar.CalendarOverrides`.
    """

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "day_off" or "working_day"
    reason: Mapped[str] = mapped_column(String(300))
    decree: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
