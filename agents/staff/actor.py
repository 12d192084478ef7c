"""The actor: who is doing something, with every role they hold and where.

An `Actor` is a signed-in person (or a partner system acting as staff at its
point, see agents/api_clients). It answers "who holds which role where";
*what* that allows is decided in one place, `agents.policy`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner, PartnerStatus
from agents.policy import Permission
from agents.staff.models import Account, AccountStatus, Role, RoleAssignment
from portal.core.tenancy import Scope


@dataclass(frozen=True)
class Grant:
    """One role held at one place: a partner (and for point roles, a point), or the center (no partner)."""

    role: Role
    partner_id: uuid.UUID | None
    agent_point_id: uuid.UUID | None


@dataclass(frozen=True)
class Actor:
    """A signed-in person and every role they hold, each with its scope."""

    account_id: uuid.UUID
    email: str
    full_name: str
    grants: tuple[Grant, ...]

    def has(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    @property
    def is_center(self) -> bool:
        return any(g.role.is_center for g in self.grants)

    @property
    def partner_ids(self) -> list[uuid.UUID]:
        seen: list[uuid.UUID] = []
        for g in self.grants:
            if g.partner_id and g.partner_id not in seen:
                seen.append(g.partner_id)
        return seen

    def point_ids(self, partner_id: uuid.UUID, *roles: Role) -> set[uuid.UUID]:
        wanted = roles or (Role.agent_staff, Role.point_lead)
        return {
            g.agent_point_id
            for g in self.grants
            if g.partner_id == partner_id and g.role in wanted and g.agent_point_id
        }

    def roles_in(self, partner_id: uuid.UUID) -> set[Role]:
        return {g.role for g in self.grants if g.partner_id == partner_id}

    def partner_scope(self, partner_id: uuid.UUID, origin: str = "") -> Scope:
        """The scope of work for one of this person's partners."""
        policy.require(
            self, Permission.work_for_partner, partner_id=partner_id, message="Bạn không có vai trò tại đối tác này"
        )
        return Scope.partner(partner_id, actor_id=self.account_id, actor_label=self.label, origin=origin)

    def network_scope(self, reason: str, origin: str = "") -> Scope:
        """The explicit cross-partner scope, for the center's people only."""
        policy.require(self, Permission.see_network)
        return Scope.network(reason, actor_id=self.account_id, actor_label=self.label, origin=origin)

    @property
    def label(self) -> str:
        return f"{self.full_name} <{self.email}>"


def load_actor(session: Session, account_id: uuid.UUID) -> Actor | None:
    """The actor for a live session, or None when the account is gone or disabled.

    Needs a network scope: one person's roles may span several partners.
    """
    account = session.get(Account, account_id)
    if account is None or account.status is not AccountStatus.active:
        return None
    rows = session.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account_id))
    grants: list[Grant] = []
    for row in rows:
        if row.partner_id is not None:
            partner = session.get(Partner, row.partner_id)
            if partner is None or partner.status is not PartnerStatus.active:
                continue  # a suspended partner's roles lapse
        grants.append(Grant(row.role, row.partner_id, row.agent_point_id))
    if not grants:
        return None
    return Actor(account.id, account.email, account.full_name, tuple(grants))
