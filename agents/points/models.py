"""AgentPoint: a counter where a partner's staff help citizens file online.

Its week (`weekly_hours`), its temporary closures (`PointClosure`) and the procedures it
offers (`PointProcedure`) are the partner manager's; its status is the center's.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin, utcnow
from portal.core.tenancy import TenantScoped


class AgentPointStatus(str, enum.Enum):
    pending = "pending"  # registered by the partner, awaiting the center's approval
    approved = "approved"
    closed = "closed"


class AgentPoint(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "agent_points"
    __table_args__ = (
        UniqueConstraint("partner_id", "code"),
        # The locator's bounding-box prefilter (agents/points/locator.py): a range on latitude,
        # then longitude, read from the index.
        Index("ix_agent_points_latitude_longitude", "latitude", "longitude"),
    )

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    ward: Mapped[str] = mapped_column(String(120))  # the ward's name, as printed
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("wards.code"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # A one-line summary of weekly_hours for receipts and lists (written with it, never on its own).
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    # {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], ..., "sun": []}; None: not published yet.
    weekly_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closed_on_public_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # The premises photo: a stored, scanned document (portal.core.blob_store by content hash).
    photo_hash: Mapped[str | None] = mapped_column(String(64))
    photo_content_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[AgentPointStatus] = mapped_column(
        Enum(AgentPointStatus, native_enum=False, length=16), default=AgentPointStatus.pending
    )


class PointClosure(IdMixin, TenantScoped, Base):
    """The point is closed from `starts_on` to `ends_on` (both included), for a reason the public sees."""

    __tablename__ = "point_closures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))


class PointProcedure(TenantScoped, Base):
    """The point offers this procedure (chosen by the partner's manager)."""

    __tablename__ = "point_procedures"

    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), primary_key=True)
    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
