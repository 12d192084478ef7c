"""Single sign-on per partner: its settings, and who an identity provider's user is here.

The center sets each partner's OpenID Connect provider (issuer, client id,
client secret; the secret is stored encrypted and never written to the audit
log). A person signing in through that provider is matched to an account by
(issuer, subject); failing that, a staff account is created (or an existing
one linked) only when the partner has an open invitation for the verified
email the provider vouches for. Every refusal is written to the audit log as
`auth.sso_failed`, and nothing else changes.

The OpenID Connect protocol itself (discovery, PKCE, ID token validation)
lives in `portal.auth.oidc`; this module sees only the validated identity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner, PartnerStatus
from agents.policy import Permission
from agents.staff.actor import Actor, load_actor
from agents.staff.lifecycle import accept_invitation, open_invitation_for
from agents.staff.models import Account, AccountStatus
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_, Message
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

SSO_FAILED = "auth.sso_failed"

MSG_NOT_CONFIGURED = N_("Đối tác này chưa bật đăng nhập SSO")
MSG_NOT_INVITED = N_("Tài khoản SSO chưa được mời")
MSG_EMAIL_NOT_VERIFIED = N_("Email của tài khoản SSO chưa được xác minh")
MSG_NO_ROLE = N_("Tài khoản chưa có vai trò nào đang hoạt động tại đối tác này")
MSG_ACCOUNT_EXISTS = N_(
    "Email này đã có tài khoản trên cổng: hãy đăng nhập bằng mật khẩu rồi mở liên kết mời để nhận vai trò mới"
)
MSG_IDENTITY_CONFLICT = N_("Email này đã gắn với một tài khoản SSO khác; vui lòng liên hệ Trung tâm")


@dataclass(frozen=True)
class SsoSettings:
    """What the relying party needs to talk to one partner's identity provider."""

    partner_id: uuid.UUID
    partner_code: str
    issuer: str
    client_id: str
    client_secret: str


def sso_settings_of(partner: Partner) -> SsoSettings | None:
    if not (partner.oidc_issuer and partner.oidc_client_id and partner.oidc_client_secret):
        return None
    return SsoSettings(
        partner.id, partner.code, partner.oidc_issuer, partner.oidc_client_id, partner.oidc_client_secret
    )


def url_code(partner: Partner) -> str:
    """The partner's code as it appears in SSO URLs (lower case, e.g. /auth/sso/vnpost)."""
    return partner.code.lower()


def partner_by_id(session: Session, partner_id: uuid.UUID | None) -> Partner | None:
    return session.get(Partner, partner_id) if partner_id else None


def partner_by_url_code(session: Session, code: str) -> Partner | None:
    """Partner codes are stored upper case; URLs carry them lower case."""
    return session.scalar(select(Partner).where(Partner.code == code.strip().upper()))


def partners_with_sso(session: Session) -> list[Partner]:
    """Active partners whose single sign-on is fully configured, by name (for the login page)."""
    rows = session.scalars(
        select(Partner)
        .where(
            Partner.status == PartnerStatus.active,
            Partner.oidc_issuer.is_not(None),
            Partner.oidc_client_id.is_not(None),
            Partner.oidc_client_secret.is_not(None),
        )
        .order_by(Partner.name)
    )
    return [p for p in rows if sso_settings_of(p) is not None]


def record_sso_failure(
    session: Session | None,
    partner: Partner | None,
    reason: str,
    *,
    scope: Scope | None = None,
    detail: dict[str, Any] | None = None,
    account_id: uuid.UUID | None = None,
    label: str = "",
) -> None:
    """One `auth.sso_failed` entry, in its own transaction (the attempt itself changes nothing)."""
    audit.record_refusal(
        session,
        SSO_FAILED,
        "partner",
        partner.id if partner else None,
        scope=scope,
        partner_id=partner.id if partner else None,
        detail={"reason": reason, "partner": partner.code if partner else None, **(detail or {})},
        actor_id=account_id,
        actor_label=label or "SSO (unidentified)",
    )


def require_sso(session: Session, partner: Partner) -> SsoSettings:
    """The partner's SSO settings, or a refusal (audited) when it is suspended or not configured."""
    if partner.status is not PartnerStatus.active:
        record_sso_failure(session, partner, "partner_suspended")
        raise PermissionDenied(
            "Đối tác %(partner)s đang bị tạm dừng: %(reason)s",
            params={"partner": partner.name, "reason": partner.status_reason or Message("không rõ lý do")},
        )
    found = sso_settings_of(partner)
    if found is None:
        record_sso_failure(session, partner, "sso_not_configured")
        raise PermissionDenied(MSG_NOT_CONFIGURED)
    return found


def configure_sso(
    session: Session, actor: Actor, partner_id: uuid.UUID, issuer: str, client_id: str, client_secret: str | None
) -> Partner:
    """Set a partner's OpenID Connect provider (center admins only).

    A blank `client_secret` keeps the one already stored. The audit entry names
    the issuer and client id and whether the secret changed, never the secret.
    """
    policy.require(actor, Permission.manage_partners, message="Chỉ Trung tâm được cấu hình đăng nhập SSO cho đối tác")
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    issuer = (issuer or "").strip()
    client_id = (client_id or "").strip()
    client_secret = (client_secret or "").strip()
    errors: dict[str, str] = {}
    parts = urlsplit(issuer)
    schemes = ("https",) if get_settings().is_production else ("https", "http")
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment or len(issuer) > 300:
        errors["issuer"] = (
            N_("Issuer phải là địa chỉ https:// hợp lệ")
            if get_settings().is_production
            else N_("Issuer phải là địa chỉ http(s):// hợp lệ")
        )
    if not client_id or len(client_id) > 200:
        errors["client_id"] = N_("Bắt buộc nhập")
    if not client_secret and not partner.oidc_client_secret:
        errors["client_secret"] = N_("Bắt buộc nhập")
    if errors:
        raise ValidationFailed("Cấu hình SSO chưa hợp lệ", field_errors=errors)
    before = {"issuer": partner.oidc_issuer, "client_id": partner.oidc_client_id}
    secret_changed = bool(client_secret) and client_secret != partner.oidc_client_secret
    partner.oidc_issuer = issuer
    partner.oidc_client_id = client_id
    if client_secret:
        partner.oidc_client_secret = client_secret
    audit.record(
        session,
        "partner.sso_configured",
        "partner",
        partner.id,
        partner_id=partner.id,
        detail={"issuer": issuer, "client_id": client_id, "secret_changed": secret_changed, "before": before},
    )
    return partner


def _account_label(account: Account) -> str:
    return f"{account.full_name} <{account.email}>"


def sign_in_with_sso(
    session: Session, partner_id: uuid.UUID, *, issuer: str, subject: str, email: str, email_verified: bool
) -> Actor:
    """Who this validated identity is here; creates the account only through an open invitation.

    Needs a network scope (accounts and invitations span partners). The outcome
    and its audit entry are written in the caller's unit of work; a refusal
    raises a DomainError whose message the person should see, after recording
    `auth.sso_failed` in its own transaction and changing nothing else.
    """
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    email = (email or "").strip().lower()
    who = {"issuer": issuer, "subject": subject, "email": email}

    def refuse(reason: str, message: str, account: Account | None = None) -> DomainError:
        # Whatever was looked at or loaded, nothing but the audit entry is written.
        record_sso_failure(
            session,
            partner,
            reason,
            detail=who,
            account_id=account.id if account else None,
            label=_account_label(account) if account else (email or subject),
        )
        return PermissionDenied(message)

    def deactivated(account: Account) -> DomainError:
        return refuse(
            "deactivated",
            Message("Tài khoản đã bị khóa: %(reason)s", reason=account.status_reason or Message("không rõ lý do")),
            account,
        )

    if partner.status is not PartnerStatus.active:
        raise refuse(
            "partner_suspended",
            Message(
                "Đối tác %(partner)s đang bị tạm dừng: %(reason)s",
                partner=partner.name,
                reason=partner.status_reason or Message("không rõ lý do"),
            ),
        )
    if partner.oidc_issuer != issuer:
        # The center changed the partner's provider while this person was signing in.
        raise refuse("issuer_changed", MSG_NOT_CONFIGURED)

    linked = session.scalar(select(Account).where(Account.sso_issuer == issuer, Account.sso_subject == subject))
    if linked is not None:
        if linked.status is AccountStatus.deactivated:
            raise deactivated(linked)
        actor = load_actor(session, linked.id)
        if actor is not None and partner.id in actor.partner_ids:
            return _signed_in(session, partner, linked, actor)

    if not email_verified:
        raise refuse("email_not_verified", MSG_EMAIL_NOT_VERIFIED, linked)
    invitation = open_invitation_for(session, email, partner.id) if email else None
    if invitation is None:
        if linked is not None:
            raise refuse("no_active_role", MSG_NO_ROLE, linked)
        raise refuse("not_invited", MSG_NOT_INVITED)
    holder = session.scalar(select(Account).where(Account.email == invitation.email))
    if linked is not None and (holder is None or holder.id != linked.id):
        # The provider now gives this subject another email than the account it is linked to.
        raise refuse("identity_conflict", MSG_IDENTITY_CONFLICT, linked)
    if holder is not None:
        if holder.status is AccountStatus.deactivated:
            raise deactivated(holder)
        if (holder.sso_issuer, holder.sso_subject) != (issuer, subject):
            # Linking a provider's identity to an existing account on that provider's word alone
            # would let one partner's IdP take over a person's account (possibly a center role).
            raise refuse("account_exists", MSG_ACCOUNT_EXISTS, holder)

    account = accept_invitation(
        session,
        invitation,
        sso_issuer=issuer,
        sso_subject=subject,
        as_account_id=holder.id if holder is not None else None,
    )
    assert account is not None  # as_account_id names the holder: accept_invitation granted the role
    actor = load_actor(session, account.id)
    if actor is None or partner.id not in actor.partner_ids:  # pragma: no cover - accept_invitation granted it
        raise refuse("no_active_role", MSG_NO_ROLE, account)
    return _signed_in(session, partner, account, actor)


def _signed_in(session: Session, partner: Partner, account: Account, actor: Actor) -> Actor:
    account.last_login_at = utcnow()
    account.failed_logins = 0
    audit.record(
        session,
        "auth.sign_in",
        "account",
        account.id,
        partner_id=partner.id,
        actor_id=account.id,
        actor_label=actor.label,
        detail={"via": "sso", "partner": partner.code, "issuer": account.sso_issuer},
    )
    return actor
