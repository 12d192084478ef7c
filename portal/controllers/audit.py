"""Auditors read the audit log and verify its hash chain."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template

from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.audit import latest_entries, verify_chain
from portal.deps import Actor, Session, network_work
from portal.templating import page


class AuditController(Controller):
    path = "/"

    # Separation of duties: those who change things don't read the record (agents.policy).
    @get(
        "/audit",
        sync_to_thread=True,
        guards=[requires(Permission.read_audit_log)],
        opt=network_work("auditor reads the audit log"),
    )
    def audit_log(self, actor: Actor, session: Session, verify: FromQuery[bool] = False) -> Template:
        report = verify_chain(session) if verify else None
        return page("audit/index.html", actor=actor, entries=latest_entries(session), report=report)
