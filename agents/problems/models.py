"""Problem reports: a citizen tells of a problem with a dossier's service; the partner and the center answer."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class ProblemKind(str, enum.Enum):
    overcharging = "overcharging"  # asked to pay more than the fee
    rudeness = "rudeness"
    no_receipt = "no_receipt"
    asked_to_come_back = "asked_to_come_back"
    other = "other"


class ProblemStatus(str, enum.Enum):
    open = "open"  # waiting for an answer
    answered = "answered"  # the partner or the center replied
    resolved = "resolved"  # closed, with a last reply


class ProblemReport(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "problem_reports"

    reference: Mapped[str] = mapped_column(String(16), unique=True)  # what the citizen follows it by
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    kind: Mapped[ProblemKind] = mapped_column(Enum(ProblemKind, native_enum=False, length=24))
    status: Mapped[ProblemStatus] = mapped_column(
        Enum(ProblemStatus, native_enum=False, length=16), default=ProblemStatus.open, index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]


class ProblemMessage(IdMixin, TimestampMixin, TenantScoped, Base):
    """One message in a report's thread: the citizen's, the partner's or the center's. Never edited."""

    __tablename__ = "problem_messages"

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("problem_reports.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # citizen | partner | center
    author_label: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
