"""Auditors read the audit log and verify its hash chain."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select

from agents import policy
from agents.policy import Permission
from portal.auth.session import network_scope, require_actor
from portal.core.audit import AuditEvent, verify_chain
from portal.core.db import read_only
from portal.templating import page


class AuditController(Controller):
    path = "/"

    @get("/audit", sync_to_thread=True)
    def audit_log(self, request: Request[Any, Any, Any], verify: FromQuery[bool] = False) -> Template:
        actor = require_actor(request)
        policy.require(actor, Permission.read_audit_log)
        with read_only(network_scope(request, actor, "auditor reads the audit log")) as session:
            report = verify_chain(session) if verify else None
            entries = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200)))
        return page("audit/index.html", actor=actor, entries=entries, report=report)
