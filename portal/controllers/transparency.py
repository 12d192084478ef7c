"""The public transparency pages (no account): the network's and each partner's figures by month, from the rollups."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from agents.reporting import transparency
from portal.deps import Session, Viewer, public_work
from portal.templating import page


def _chart(months: list[transparency.Month]) -> list[dict[str, object]]:
    """The months as the bar chart macro reads rows (templates/dashboards/_charts.html)."""
    return [{"label": m.month.strftime("%m/%Y"), "totals": {"handled": m.handled}} for m in months]


class TransparencyController(Controller):
    path = "/transparency"

    @get("/", sync_to_thread=True, opt=public_work("public transparency figures of the network"))
    def network(self, viewer: Viewer, session: Session) -> Template:
        figures = transparency.figures(session, None)
        return page(
            "public/transparency.html",
            actor=viewer,
            figures=figures,
            chart=_chart(figures.months),
            partners=transparency.network_by_partner(session),
        )

    @get("/{code:str}", sync_to_thread=True, opt=public_work("public transparency figures of a partner"))
    def partner(self, viewer: Viewer, session: Session, code: FromPath[str]) -> Template:
        figures = transparency.figures(session, transparency.partner_by_code(session, code))
        return page(
            "public/transparency.html", actor=viewer, figures=figures, chart=_chart(figures.months), partners=None
        )
