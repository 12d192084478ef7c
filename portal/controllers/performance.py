"""Performance dashboards from the rollups: a partner's manager for their points and staff, the center across partners."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import File, Redirect, Template

from agents.points import coverage as network_coverage
from agents.policy import Permission
from agents.reporting import dashboards, export_jobs, tables
from agents.reporting.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_text, xlsx_bytes
from portal.auth.guards import requires
from portal.controllers.locator import map_page
from portal.core.db import attempt
from portal.core.errors import ValidationFailed
from portal.core.settings import get_settings
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _uuid(value: str, name: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed("Giá trị không hợp lệ", field_errors={name: "Giá trị không hợp lệ"}) from None


def _filters(start: str, end: str, point: str, staff: str) -> tables.Filters:
    return tables.Filters(dashboards.Period.parse(start, end), _uuid(point, "point"), _uuid(staff, "staff"))


def _refused(actor: Actor, scope: str, exc: ValidationFailed, values: dict[str, str]) -> Template:
    """The dashboard's form again, with what was wrong: a period, a table, an export too large."""
    return page(
        "dashboards/performance.html",
        status_code=422,
        actor=actor,
        board=None,
        scope=scope,
        base=f"/{scope}/performance",
        message=exc.message,
        errors=exc.field_errors,
        values=values,
        exports=[],
    )


def _page(session: Session, actor: Actor, scope: str, start: str, end: str, point: str, staff: str) -> Template:
    base = f"/{scope}/performance"
    try:
        filters = _filters(start, end, point, staff)
        board = dashboards.build(session, filters.period, point_id=filters.point_id, staff_id=filters.staff_id)
    except ValidationFailed as exc:
        return _refused(actor, scope, exc, {"start": start, "end": end})
    context: dict[str, Any] = {
        "actor": actor,
        "board": board,
        "scope": scope,
        "base": base,
        "message": None,
        "errors": {},
        "values": {"start": board.period.start.isoformat(), "end": board.period.end.isoformat(), "point": point},
        "exports": export_jobs.jobs_of(session, actor),
    }
    if scope != "center":
        return page("dashboards/performance.html", **context)
    # The center's page also places every point on the map by its on-time rate, and shows the coverage gaps.
    gaps = network_coverage.coverage(session, top=3)
    return map_page(
        "dashboards/performance.html",
        base,
        map_points=json.dumps(dashboards.point_map(session, board.by_point)),
        cells="{}",
        coverage=gaps,
        **context,
    )


def _export(
    session: Session, actor: Actor, scope: str, file_format: str, table: str, values: dict[str, str]
) -> Response[Any] | Template:
    """A table as a file at once, or, when it is large, the offer to build it in the background."""
    try:
        tables.check_choice(table, file_format)
        filters = _filters(values["start"], values["end"], values["point"], values["staff"])
        rows = tables.open_table(session, table, filters)
        export_jobs.check_size(rows.count)
    except ValidationFailed as exc:
        return _refused(actor, scope, exc, values)
    if export_jobs.goes_to_a_worker(rows.count):
        return page(
            "dashboards/export_offer.html",
            actor=actor,
            scope=scope,
            table=table,
            file_format=file_format,
            count=rows.count,
            inline_rows=get_settings().reporting.export_inline_rows,
            values={**values, "start": filters.period.start.isoformat(), "end": filters.period.end.isoformat()},
        )
    name = export_jobs.file_name(table, filters.period, file_format)
    if file_format == "xlsx":
        body: str | bytes = xlsx_bytes(rows.header, rows.rows(), sheet=export_jobs.SHEET_NAMES.get(table, table))
        media_type = XLSX_MEDIA_TYPE
    else:
        body, media_type = csv_text(rows.header, rows.rows()), CSV_MEDIA_TYPE
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _start_export(session: Session, actor: Actor, scope: str, data: dict[str, str]) -> Redirect | Template:
    values = {k: str(data.get(k) or "") for k in ("start", "end", "point", "staff")}
    table, file_format = str(data.get("table") or ""), str(data.get("format") or "")
    try:
        tables.check_choice(table, file_format)
        filters = _filters(values["start"], values["end"], values["point"], values["staff"])
        with attempt(session):
            count = tables.open_table(session, table, filters).count
            job = export_jobs.request(session, actor, table, file_format, filters, count)
    except ValidationFailed as exc:
        return _refused(actor, scope, exc, values)
    return Redirect(f"/{scope}/exports/{job.id}", status_code=303)


def _job_page(session: Session, actor: Actor, scope: str, job_id: uuid.UUID) -> Template:
    job = export_jobs.job_of(session, actor, job_id)
    return page("dashboards/export_job.html", actor=actor, scope=scope, job=job)


def _download(session: Session, actor: Actor, job_id: uuid.UUID) -> File:
    found = export_jobs.download(session, actor, job_id)
    return File(path=found.path, filename=found.name, media_type=found.media_type)


class PerformanceController(Controller):
    """/partner/... for a partner's manager (their partner's points), /center/... for the center (every partner)."""

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
        actor: Actor,
        session: Session,
        table: FromQuery[str] = "points",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any] | Template:
        values = {"start": start, "end": end, "point": point, "staff": staff}
        return _export(session, actor, "partner", "csv", table, values)

    @get(
        "/partner/performance.xlsx",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_xlsx(
        self,
        actor: Actor,
        session: Session,
        table: FromQuery[str] = "points",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any] | Template:
        values = {"start": start, "end": end, "point": point, "staff": staff}
        return _export(session, actor, "partner", "xlsx", table, values)

    @post(
        "/partner/performance/exports",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(writes=True),
    )
    def partner_start_export(self, actor: Actor, session: Session, data: Form) -> Redirect | Template:
        return _start_export(session, actor, "partner", data)

    @get(
        "/partner/exports/{job_id:uuid}",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_export_job(self, actor: Actor, session: Session, job_id: FromPath[uuid.UUID]) -> Template:
        return _job_page(session, actor, "partner", job_id)

    @get(
        "/partner/exports/{job_id:uuid}/file",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_export_file(self, actor: Actor, session: Session, job_id: FromPath[uuid.UUID]) -> File:
        return _download(session, actor, job_id)

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
        opt=network_work("center reads the network's performance"),
    )
    def center_csv(
        self,
        actor: Actor,
        session: Session,
        table: FromQuery[str] = "partners",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any] | Template:
        values = {"start": start, "end": end, "point": point, "staff": staff}
        return _export(session, actor, "center", "csv", table, values)

    @get(
        "/center/performance.xlsx",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the network's performance"),
    )
    def center_xlsx(
        self,
        actor: Actor,
        session: Session,
        table: FromQuery[str] = "partners",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
        point: FromQuery[str] = "",
        staff: FromQuery[str] = "",
    ) -> Response[Any] | Template:
        values = {"start": start, "end": end, "point": point, "staff": staff}
        return _export(session, actor, "center", "xlsx", table, values)

    @post(
        "/center/performance/exports",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center exports the network's performance", writes=True),
    )
    def center_start_export(self, actor: Actor, session: Session, data: Form) -> Redirect | Template:
        return _start_export(session, actor, "center", data)

    @get(
        "/center/exports/{job_id:uuid}",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the network's performance"),
    )
    def center_export_job(self, actor: Actor, session: Session, job_id: FromPath[uuid.UUID]) -> Template:
        return _job_page(session, actor, "center", job_id)

    @get(
        "/center/exports/{job_id:uuid}/file",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the network's performance"),
    )
    def center_export_file(self, actor: Actor, session: Session, job_id: FromPath[uuid.UUID]) -> File:
        return _download(session, actor, job_id)
