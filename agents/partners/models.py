"""Partner: a company running agent points. One partner is one tenant."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.crypto import EncryptedText
from portal.core.db import Base, IdMixin, TimestampMixin


class PartnerKind(str, enum.Enum):
    post = "post"
    telco = "telco"
    retail = "retail"
    bank = "bank"


class PartnerStatus(str, enum.Enum):
    """The onboarding workflow: applied → active (approved) ⇄ suspended (with a reason), and → ended for good."""

    applied = "applied"  # the application is in; nobody of the partner can sign in or file yet
    active = "active"  # approved by the center (restored after a suspension)
    suspended = "suspended"  # its people see the reason when they try to sign in
    ended = "ended"  # the partnership is over (or the application was turned down)


class Partner(IdMixin, TimestampMixin, Base):
    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartnerKind] = mapped_column(Enum(PartnerKind, native_enum=False, length=16))
    status: Mapped[PartnerStatus] = mapped_column(
        Enum(PartnerStatus, native_enum=False, length=16), default=PartnerStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The application (agents/partners/service.apply): who the company is and its contract.
    legal_name: Mapped[str | None] = mapped_column(String(300))
    tax_code: Mapped[str | None] = mapped_column(String(14), unique=True, index=True)  # mã số thuế: 10 digits or 10-3
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contract_start: Mapped[date | None] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)  # the last day its points may file
    manager_email: Mapped[str | None] = mapped_column(String(254))  # invited on approval
    manager_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]  # approved, turned down, suspended, restored or ended (who: the audit log)
    # Single sign-on through the partner's own OpenID Connect provider (set by the center).
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_client_id: Mapped[str | None] = mapped_column(String(200))
    oidc_client_secret: Mapped[str | None] = mapped_column(EncryptedText)
