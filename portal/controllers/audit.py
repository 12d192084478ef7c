"""Auditors read the audit log (searched, filtered, paged) and verify its hash chain over any range."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template

from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.audit import EntryFilter, search_entries, verify_chain
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work
from portal.templating import page

PAGE_SIZE = 200
LOCAL = timedelta(hours=7)

# What the actions mean, for people (an action not listed shows its code).
ACTION_NAMES = {
    "dossier.filed": N_("Tiếp nhận hồ sơ"),
    "dossier.forwarded": N_("Gửi hồ sơ sang hệ thống một cửa"),
    "dossier.viewed": N_("Xem hồ sơ"),
    "rating.created": N_("Công dân đánh giá"),
    "rating.excluded": N_("Loại đánh giá khỏi điểm trung bình"),
    "rating.included": N_("Tính lại đánh giá"),
    "problem.reported": N_("Công dân báo cáo sự cố"),
    "problem.answered": N_("Trả lời báo cáo sự cố"),
    "problem.resolved": N_("Đóng báo cáo sự cố"),
    "problem.citizen_replied": N_("Công dân bổ sung báo cáo sự cố"),
    "auth.sign_in": N_("Đăng nhập"),
    "auth.sign_in_failed": N_("Đăng nhập sai"),
}


def _day(value: str, *, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    start = datetime.combine(day, time(0), tzinfo=UTC) - LOCAL
    return start + timedelta(days=1) if end else start


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


class AuditController(Controller):
    path = "/"

    # Separation of duties: those who change things don't read the record (agents.policy).
    @get(
        "/audit",
        sync_to_thread=True,
        guards=[requires(Permission.read_audit_log)],
        opt=network_work("auditor reads the audit log"),
    )
    def audit_log(
        self,
        actor: Actor,
        session: Session,
        verify: FromQuery[bool] = False,
        person: FromQuery[str] = "",
        partner: FromQuery[str] = "",
        action: FromQuery[str] = "",
        object: FromQuery[str] = "",  # noqa: A002 - the query parameter's name
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        before: FromQuery[str] = "",
        first: FromQuery[str] = "",
        last: FromQuery[str] = "",
    ) -> Template:
        try:
            partner_id = uuid.UUID(partner) if partner else None
        except ValueError:
            partner_id = uuid.UUID(int=0)  # no partner has it: nothing matches
        wanted = EntryFilter(
            person=person[:200],
            partner_id=partner_id,
            action=action[:60],
            object_id=object[:80],
            since=_day(start),
            until=_day(end, end=True),
            before=_int(before),
        )
        entries = search_entries(session, wanted, PAGE_SIZE)
        report = verify_chain(session, _int(first), _int(last)) if verify else None
        older = entries[-1].seq if len(entries) == PAGE_SIZE else None
        values = {
            "person": person,
            "partner": partner,
            "action": action,
            "object": object,
            "start": start,
            "end": end,
            "first": first,
            "last": last,
        }
        return page(
            "audit/index.html",
            actor=actor,
            entries=entries,
            report=report,
            values=values,
            older=older,
            action_names=ACTION_NAMES,
        )
