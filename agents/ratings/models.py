"""Rating: a citizen's rating of one dossier's service, one per kind; flags on suspicious ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agents.ratings.rules import RatingKind, Sipas, Timeliness
from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class Rating(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("came_back IS NULL OR came_back BETWEEN 0 AND 2", name="came_back_range"),
        UniqueConstraint("dossier_id", "kind"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[RatingKind] = mapped_column(Enum(RatingKind, native_enum=False, length=8), default=RatingKind.result)
    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    # The staff member who filed the dossier (their ratings are compared with their point's).
    staff_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)  # overall, 1-5
    attitude: Mapped[Sipas | None] = mapped_column(Enum(Sipas, native_enum=False, length=16))
    timeliness: Mapped[Timeliness | None] = mapped_column(Enum(Timeliness, native_enum=False, length=8))
    came_back: Mapped[int | None] = mapped_column(Integer)  # 0 never, 1 once, 2 twice or more
    comment: Mapped[str] = mapped_column(Text, default="")
    # Where it came from, as keyed digests only (agents/ratings/flags.py compares them; no IP is kept).
    network_digest: Mapped[str] = mapped_column(String(32), default="", index=True)
    device_digest: Mapped[str] = mapped_column(String(32), default="", index=True)
    seconds_after_filing: Mapped[int | None] = mapped_column(Integer)
    # Left out of every average by the center, with a reason (audited); the rating itself stays.
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded_reason: Mapped[str] = mapped_column(Text, default="")
    excluded_at: Mapped[datetime | None]


class RatingFlag(IdMixin, TimestampMixin, TenantScoped, Base):
    """Why a rating looks suspicious, with the evidence; flags never delete or change the rating."""

    __tablename__ = "rating_flags"
    __table_args__ = (UniqueConstraint("rating_id", "reason"),)

    rating_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ratings.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # agents/ratings/flags.py REASONS
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
