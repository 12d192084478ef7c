"""Tenant scoping, enforced on every ORM statement and failing closed.

Every session carries a `Scope` in `session.info["scope"]` (set by
`portal.core.db.unit_of_work` / `read_only`). For a partner scope, every SELECT/UPDATE/DELETE
gets `partner_id = <scope>` on every `TenantScoped` entity it touches
(SQLAlchemy's global-criteria recipe, `with_loader_criteria`). A session with
no scope raises `TenancyError` instead of returning everything. Reading across
partners (center roles, public tracking by code, reports) must say so with
`Scope.network(...)`.

On PostgreSQL the same scope is copied into the transaction
(`app.partner_id`, `app.all_partners`) where row-level-security policies
(migration 0001) enforce it a second time, for SQL that bypasses the ORM.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ForeignKey, Uuid, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria

from portal.core.errors import TenancyError


@dataclass(frozen=True)
class Scope:
    """Whose data a unit of work may touch, and who is doing it."""

    partner_id: uuid.UUID | None
    all_partners: bool
    actor_id: uuid.UUID | None
    actor_label: str
    reason: str = ""
    origin: str = ""  # where the action comes from: client IP, "worker", "cli"

    @classmethod
    def partner(
        cls, partner_id: uuid.UUID, *, actor_id: uuid.UUID | None = None, actor_label: str = "", origin: str = ""
    ) -> Scope:
        return cls(partner_id=partner_id, all_partners=False, actor_id=actor_id, actor_label=actor_label, origin=origin)

    @classmethod
    def network(
        cls, reason: str, *, actor_id: uuid.UUID | None = None, actor_label: str = "", origin: str = ""
    ) -> Scope:
        """Explicit cross-partner scope; `reason` says why (kept for the audit trail)."""
        if not reason:
            raise TenancyError("a cross-partner scope must state its reason")
        return cls(
            partner_id=None,
            all_partners=True,
            actor_id=actor_id,
            actor_label=actor_label or "system",
            reason=reason,
            origin=origin,
        )

    def as_header(self) -> dict[str, str]:
        """The scope as a task message carries it (portal.core.celery_app.enqueue)."""
        return {
            "partner_id": str(self.partner_id) if self.partner_id else "",
            "all_partners": "1" if self.all_partners else "",
            "actor_id": str(self.actor_id) if self.actor_id else "",
            "actor_label": self.actor_label,
            "reason": self.reason,
            "origin": self.origin,
        }

    @classmethod
    def from_header(cls, header: object, *, origin: str) -> Scope:
        """Re-enter a scope carried by a task message; `origin` says where the work now runs."""
        if not isinstance(header, dict):
            raise TenancyError("a task's scope header must be a mapping")
        actor_id = uuid.UUID(header["actor_id"]) if header.get("actor_id") else None
        label = str(header.get("actor_label") or "")
        if header.get("all_partners"):
            return cls.network(str(header.get("reason") or ""), actor_id=actor_id, actor_label=label, origin=origin)
        if not header.get("partner_id"):
            raise TenancyError("a task's scope header names neither a partner nor the network")
        return cls.partner(uuid.UUID(header["partner_id"]), actor_id=actor_id, actor_label=label, origin=origin)


class TenantScoped:
    """Mixin for partner-owned tables: adds `partner_id` and puts the table under scoping."""

    @declared_attr
    def partner_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        # The type is explicit: a process that never imports the Partner model (a worker
        # forwarding dossiers) must still read UUIDs, not what the foreign key would lend.
        return mapped_column(Uuid(), ForeignKey("partners.id"), index=True)


def current_scope(session: Session) -> Scope:
    scope = session.info.get("scope")
    if not isinstance(scope, Scope):
        raise TenancyError(
            "this session has no declared tenancy scope; open it with unit_of_work(scope) or read_only(scope)"
        )
    return scope


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statements(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope(state.session)
    if scope.all_partners:
        return
    partner_id = scope.partner_id
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.partner_id == partner_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, _flush_context: object, _instances: object) -> None:
    pending = [obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, TenantScoped)]
    if not pending:
        return
    scope = current_scope(session)
    if scope.all_partners:
        return
    for obj in pending:
        if obj.partner_id != scope.partner_id:
            raise TenancyError(
                f"{type(obj).__name__} of partner {obj.partner_id} written in the scope of partner {scope.partner_id}"
            )


@event.listens_for(Session, "after_begin")
def _copy_scope_into_transaction(session: Session, transaction: object, connection: object) -> None:
    if connection.dialect.name != "postgresql":  # type: ignore[attr-defined]
        return
    if getattr(transaction, "nested", False):
        # A SAVEPOINT inside the unit's transaction: the settings made when it began still hold
        # (a rollback to the savepoint cannot undo what was set before it).
        return
    scope = session.info.get("scope")
    partner = str(scope.partner_id) if isinstance(scope, Scope) and scope.partner_id else ""
    everything = "on" if isinstance(scope, Scope) and scope.all_partners else "off"
    connection.execute(  # type: ignore[attr-defined]
        text("SELECT set_config('app.partner_id', :p, true), set_config('app.all_partners', :a, true)"),
        {"p": partner, "a": everything},
    )
