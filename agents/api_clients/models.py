"""Partner systems calling the JSON API (OAuth2 client credentials, RFC 6749 §4.4).

One or more clients per partner, each limited to a set of scopes; the secret
is shown once and stored as an argon2 hash; access tokens are opaque, stored
as SHA-256 hashes, and expire.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.i18n import N_
from portal.core.tenancy import TenantScoped

API_SCOPES = {
    "procedures:read": N_("Đọc danh mục thủ tục"),
    "dossiers:read": N_("Xem hồ sơ của đối tác"),
    "dossiers:write": N_("Nộp hồ sơ"),
    "payments": N_("Thu phí hồ sơ qua VNPay"),
}


class ApiClientStatus(str, enum.Enum):
    active = "active"
    revoked = "revoked"


class ApiClient(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The agent point the system files for (a bank's branch software files at its branch).
    agent_point_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_points.id"))
    # The named person accountable for what the client does (audit "who").
    owner_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[ApiClientStatus] = mapped_column(
        Enum(ApiClientStatus, native_enum=False, length=16), default=ApiClientStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    last_used_at: Mapped[datetime | None]


class ApiToken(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "api_tokens"

    api_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime]
