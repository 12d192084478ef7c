"""Figures: a partner manager sees their points; the center sees the whole network."""

from __future__ import annotations

import io
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template

from agents.dossiers.models import CityStatus
from agents.reporting.export import SafeCsvWriter
from agents.reporting.queries import PointFigures, figures_per_point
from agents.staff.models import Role
from portal.auth.session import network_scope, partner_scope, require_actor
from portal.core.db import open_session
from portal.core.errors import PermissionDenied
from portal.templating import page

SHOWN_STATUSES = [
    CityStatus.received,
    CityStatus.processing,
    CityStatus.supplement_requested,
    CityStatus.processed,
    CityStatus.returned,
    CityStatus.refused,
]


def _csv(figures: list[PointFigures]) -> Response[str]:
    out = io.StringIO()
    writer = SafeCsvWriter(out)  # names and wards are typed by people: no cell may run as a formula
    writer.writerow(
        [
            "partner",
            "point",
            "ward",
            "total",
            "queued",
            "rejected",
            *[f"status_{s.value}" for s in CityStatus],
            "on_time",
            "late",
            "ratings",
            "average_rating",
        ]
    )
    for f in figures:
        writer.writerow(
            [
                f.partner_name,
                f.point_name,
                f.ward,
                f.total,
                f.queued,
                f.rejected,
                *[f.by_city_status.get(s.value, 0) for s in CityStatus],
                f.on_time,
                f.late,
                f.ratings,
                "" if f.average_rating is None else f.average_rating,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="figures.csv"'},
    )


def _partner_figures(request: Request[Any, Any, Any]) -> tuple[Any, list[PointFigures]]:
    actor = require_actor(request)
    scope = partner_scope(request, actor)
    if Role.partner_manager not in actor.roles_in(scope.partner_id):  # type: ignore[arg-type]
        raise PermissionDenied("Trang này dành cho quản lý đối tác")
    with open_session(scope) as session:
        return actor, figures_per_point(session)


def _network_figures(request: Request[Any, Any, Any]) -> tuple[Any, list[PointFigures]]:
    actor = require_actor(request)
    if not actor.has(Role.center_admin, Role.auditor):
        raise PermissionDenied("Trang này dành cho Trung tâm")
    with open_session(network_scope(request, actor, "center dashboard")) as session:
        return actor, figures_per_point(session)


class DashboardController(Controller):
    path = "/"

    @get("/partner/dashboard", sync_to_thread=True)
    def partner_dashboard(self, request: Request[Any, Any, Any]) -> Template:
        actor, figures = _partner_figures(request)
        return page(
            "dashboards/points.html",
            actor=actor,
            figures=figures,
            statuses=SHOWN_STATUSES,
            title="Thống kê theo điểm",
            csv_url="/partner/dashboard.csv",
        )

    @get("/partner/dashboard.csv", sync_to_thread=True)
    def partner_dashboard_csv(self, request: Request[Any, Any, Any]) -> Response[str]:
        return _csv(_partner_figures(request)[1])

    @get("/center/dashboard", sync_to_thread=True)
    def center_dashboard(self, request: Request[Any, Any, Any]) -> Template:
        actor, figures = _network_figures(request)
        return page(
            "dashboards/points.html",
            actor=actor,
            figures=figures,
            statuses=SHOWN_STATUSES,
            title="Toàn mạng lưới",
            csv_url="/center/dashboard.csv",
        )

    @get("/center/dashboard.csv", sync_to_thread=True)
    def center_dashboard_csv(self, request: Request[Any, Any, Any]) -> Response[str]:
        return _csv(_network_figures(request)[1])
