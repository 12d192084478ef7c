"""Performance dashboards from the rollups: a partner's manager for their points and staff, the center across partners."""

from __future__ import annotations

import io
import uuid
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from agents.policy import Permission
from agents.reporting import dashboards
from agents.reporting.export import SafeCsvWriter
from portal.auth.guards import requires
from portal.controllers.dashboards import UTF8_BOM
from portal.core.errors import ValidationFailed
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

CSV_COLUMNS = [
    "key",
    "name",
    "filed",
    "on_time_rate",
    "supplement_rate",
    "refused_rate",
    "counter_within_15_rate",
    "ratings",
    "average_rating",
]


def _uuid(value: str, name: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed("Giá trị không hợp lệ", field_errors={name: "Giá trị không hợp lệ"}) from None


def _dashboard(session: Session, start: str, end: str, point: str, staff: str) -> dashboards.Dashboard:
    period = dashboards.Period.parse(start, end)
    return dashboards.build(session, period, point_id=_uuid(point, "point"), staff_id=_uuid(staff, "staff"))


def _page(session: Session, actor: Actor, scope: str, start: str, end: str, point: str, staff: str) -> Template:
    base = f"/{scope}/performance"
    try:
        board = _dashboard(session, start, end, point, staff)
    except ValidationFailed as exc:
        return page(
            "dashboards/performance.html",
            status_code=422,
            actor=actor,
            board=None,
            scope=scope,
            base=base,
            message=exc.message,
            errors=exc.field_errors,
            values={"start": start, "end": end},
        )
    return page(
        "dashboards/performance.html",
        actor=actor,
        board=board,
        scope=scope,
        base=base,
        message=None,
        errors={},
        values={"start": board.period.start.isoformat(), "end": board.period.end.isoformat(), "point": point},
    )


def _csv(session: Session, start: str, end: str, table: str, point: str, staff: str) -> Response[Any]:
    board = _dashboard(session, start, end, point, staff)
    rows = {
        "points": board.by_point,
        "staff": board.by_staff,
        "partners": board.by_partner,
        "procedures": board.by_procedure,
        "weeks": board.weekly,
    }.get(table)
    if rows is None:
        raise ValidationFailed(
            "Bảng không hợp lệ", field_errors={"table": "points | staff | partners | procedures | weeks"}
        )
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        t = row.totals
        writer.writerow(
            [
                row.key,
                row.label,
                t.filed,
                "" if t.on_time_rate is None else t.on_time_rate,
                "" if t.supplement_rate is None else t.supplement_rate,
                "" if t.refused_rate is None else t.refused_rate,
                "" if t.within_15_rate is None else t.within_15_rate,
                t.ratings,
                "" if t.average_rating is None else t.average_rating,
            ]
        )
    name = f"{table}-{board.period.start}-{board.period.end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class PerformanceController(Controller):
    path = "/"

    @get(
        "/partner/performance",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner(
        self,
        actor: Actor,
        session: Session,
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Template:
        return _page(session, actor, "partner", start, end, point, staff)

    @get(
        "/partner/performance.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_csv(
        self,
        session: Session,
        table: FromQuery[str] = "points",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any]:
        return _csv(session, start, end, table, point, staff)

    @get(
        "/center/performance",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the network's performance"),
    )
    def center(
        self,
        actor: Actor,
        session: Session,
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Template:
        return _page(session, actor, "center", start, end, point, staff)

    @get(
        "/center/performance.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center exports the network's performance"),
    )
    def center_csv(
        self,
        session: Session,
        table: FromQuery[str] = "partners",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any]:
        return _csv(session, start, end, table, point, staff)
