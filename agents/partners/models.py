"""Partner: a company running agent points. One partner is one tenant."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.crypto import EncryptedText
from portal.core.db import Base, IdMixin, TimestampMixin


class PartnerKind(str, enum.Enum):
    post = "post"
    telco = "telco"
    retail = "retail"
    bank = "bank"


class PartnerStatus(str, enum.Enum):
    active = "active"
    suspended = "suspended"


class Partner(IdMixin, TimestampMixin, Base):
    __tablename__ = "partners"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartnerKind] = mapped_column(Enum(PartnerKind, native_enum=False, length=16))
    status: Mapped[PartnerStatus] = mapped_column(
        Enum(PartnerStatus, native_enum=False, length=16), default=PartnerStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Single sign-on through the partner's own OpenID Connect provider (set by the center).
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_client_id: Mapped[str | None] = mapped_column(String(200))
    oidc_client_secret: Mapped[str | None] = mapped_column(EncryptedText)
