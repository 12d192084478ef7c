"""AgentPoint: a counter where a partner's staff help citizens file online."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class AgentPointStatus(str, enum.Enum):
    pending = "pending"  # registered by the partner, awaiting the center's approval
    approved = "approved"
    closed = "closed"


class AgentPoint(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "agent_points"
    __table_args__ = (UniqueConstraint("partner_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    ward: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AgentPointStatus] = mapped_column(
        Enum(AgentPointStatus, native_enum=False, length=16), default=AgentPointStatus.pending
    )
