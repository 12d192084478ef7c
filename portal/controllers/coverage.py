"""The center's coverage of Hanoi: wards without an open point within 5 km, where one new point would
reach the most of them (a map, a table, CSV), and the wards' population import."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from agents.points import coverage as network_coverage
from agents.policy import Permission
from agents.reporting.export import SafeCsvWriter
from agents.wards import service as wards
from agents.wards.rules import MAX_BYTES
from portal.auth.guards import requires
from portal.controllers.locator import map_page
from portal.core.db import attempt
from portal.core.errors import DomainError, ValidationFailed
from portal.core.i18n import N_, Message
from portal.deps import Actor, Session, network_work

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
UTF8_BOM = "\ufeff"  # Excel reads the CSV as UTF-8 only with it


def _page(session: Session, actor: Actor, status_code: int = 200, **extra: Any) -> Template:
    result = network_coverage.coverage(session)
    best = {w.ward.code for w in result.candidates[0].reaches} if result.candidates else set()
    cells = {
        w.ward.code: "covered" if w.covered else ("candidate" if w.ward.code in best else "uncovered")
        for w in result.wards
    }
    if result.candidates:
        cells[result.candidates[0].site.code] = "candidate"
    context: dict[str, Any] = {"message": None, "errors": {}, "done": None, **extra}
    return map_page(
        "center/coverage.html",
        "/center/coverage",
        status_code=status_code,
        actor=actor,
        result=result,
        cells=json.dumps(cells),
        map_points="[]",
        **context,
    )


def _csv(name: str, header: list[str], rows: list[list[object]]) -> Response[str]:
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = SafeCsvWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class CoverageController(Controller):
    path = "/center"

    @get(
        "/coverage",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the network's coverage"),
    )
    def coverage_page(self, actor: Actor, session: Session) -> Template:
        return _page(session, actor)

    @get(
        "/coverage/wards.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center exports the network's coverage"),
    )
    def wards_csv(self, session: Session) -> Response[str]:
        result = network_coverage.coverage(session)
        return _csv(
            "coverage-wards.csv",
            ["code", "ward", "kind", "covered_within_5km", "nearest_open_point_km", "population", "population_source"],
            [
                [w.ward.code, w.ward.name, w.ward.kind, "yes" if w.covered else "no",
                 "" if w.nearest_km is None else w.nearest_km, w.ward.population if w.ward.population is not None else "",
                 w.ward.population_source or ""]
                for w in result.wards
            ],
        )  # fmt: skip

    @get(
        "/coverage/candidates.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center exports the network's coverage"),
    )
    def candidates_csv(self, session: Session) -> Response[str]:
        result = network_coverage.coverage(session)
        return _csv(
            "coverage-candidates.csv",
            ["rank", "site_code", "site_ward", "uncovered_wards_reached", "people_weighted", "known_population",
             "wards_reached"],
            [
                [rank, c.site.code, c.site.name, len(c.reaches), round(c.people), c.known_people,
                 "; ".join(w.ward.name for w in c.reaches)]
                for rank, c in enumerate(result.candidates, start=1)
            ],
        )  # fmt: skip

    @post(
        "/wards/population",
        sync_to_thread=True,
        guards=[requires(Permission.manage_wards)],
        opt=network_work("center imports the wards' population"),
    )
    def import_population(self, actor: Actor, session: Session, data: Upload) -> Template:
        upload = data.get("file")
        source = str(data.get("source") or "")
        try:
            if not isinstance(upload, UploadFile):
                raise ValidationFailed("Chưa chọn tệp nào", field_errors={"file": N_("Bắt buộc chọn")})
            raw = upload.file.read(MAX_BYTES + 1)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationFailed(
                    "Tệp phải là CSV mã UTF-8", field_errors={"file": N_("Không đọc được tệp")}
                ) from None
            with attempt(session):
                count = wards.import_population(session, actor, text, source)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return _page(session, actor, exc.status_code, message=exc.message, errors=exc.field_errors)
        return _page(session, actor, done=Message("Đã cập nhật dân số %(count)s phường, xã", count=count))
