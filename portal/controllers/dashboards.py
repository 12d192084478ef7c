"""Figures: a partner manager sees their points; the center sees the whole network."""

from __future__ import annotations

import io

from litestar import Controller, Response, get
from litestar.response import Template

from agents.dossiers.models import CityStatus
from agents.policy import Permission
from agents.reporting.export import SafeCsvWriter
from agents.reporting.queries import PointFigures, figures_per_point
from portal.auth.guards import requires
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

SHOWN_STATUSES = [
    CityStatus.received,
    CityStatus.processing,
    CityStatus.supplement_requested,
    CityStatus.processed,
    CityStatus.returned,
    CityStatus.refused,
]


# Excel reads a CSV file without a byte-order mark in the machine's legacy code page
# (Vietnamese turns into mojibake); with it, Excel and every other reader take UTF-8.
UTF8_BOM = "\ufeff"


def _csv(figures: list[PointFigures]) -> Response[str]:
    out = io.StringIO()
    out.write(UTF8_BOM)
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
            "supplements_asked",
            "agent_caused_supplements",
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
                f.supplements_asked,
                f.agent_caused_supplements,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="figures.csv"'},
    )


class DashboardController(Controller):
    path = "/"

    @get(
        "/partner/dashboard",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_dashboard(self, actor: Actor, session: Session) -> Template:
        return page(
            "dashboards/points.html",
            actor=actor,
            figures=figures_per_point(session),
            statuses=SHOWN_STATUSES,
            title=N_("Thống kê theo điểm"),
            csv_url="/partner/dashboard.csv",
        )

    @get(
        "/partner/dashboard.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_partner_figures)],
        opt=partner_work(),
    )
    def partner_dashboard_csv(self, session: Session) -> Response[str]:
        return _csv(figures_per_point(session))

    @get(
        "/center/dashboard",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center dashboard"),
    )
    def center_dashboard(self, actor: Actor, session: Session) -> Template:
        return page(
            "dashboards/points.html",
            actor=actor,
            figures=figures_per_point(session),
            statuses=SHOWN_STATUSES,
            title=N_("Toàn mạng lưới"),
            csv_url="/center/dashboard.csv",
        )

    @get(
        "/center/dashboard.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center dashboard"),
    )
    def center_dashboard_csv(self, session: Session) -> Response[str]:
        return _csv(figures_per_point(session))
