"""Where to go: the public procedure list, the locator (page and JSON) and the wards' map data."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import FromPath, Parameter
from litestar.response import Template

from agents.points import locator, offer, photo
from agents.points.rules import VIETNAM_BOUNDS
from agents.points.schemas import PointNearOut, PointsNearOut
from agents.procedures import service as procedures
from agents.wards import service as wards
from portal.controllers.points import photo_response
from portal.core.errors import DomainError, NotFound, ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings
from portal.deps import Session, Viewer, public_work
from portal.openapi import raises
from portal.security.headers import policy_for, render_policy
from portal.templating import page

DIAGRAM_NOTE = N_("Sơ đồ phường, xã (không phải địa giới hành chính); khoảng cách tính theo đường thẳng.")


def map_page(name: str, path: str, status_code: int = 200, **context: Any) -> Template:
    """A page with a Leaflet map: with a tile server configured, its images are allowed too."""
    settings = get_settings().map
    template = page(
        name, status_code=status_code, tile_url=settings.tile_url, tile_attribution=settings.tile_attribution, **context
    )
    if settings.tile_origin:
        policy = policy_for(path)
        policy["img-src"] = f"{policy['img-src']} {settings.tile_origin}"
        template.headers["Content-Security-Policy"] = render_policy(policy)
    return template


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


class LocatorController(Controller):
    path = "/"

    @get("/procedures", sync_to_thread=True, opt=public_work("public list of procedures and the points offering them"))
    def procedure_list(
        self, viewer: Viewer, session: Session, q: Annotated[str, Parameter(max_length=100)] = ""
    ) -> Template:
        return page("public/procedures.html", actor=viewer, q=q, items=offer.public_catalogue(session, q))

    @get("/locator", sync_to_thread=True, opt=public_work("public locator of agent points"))
    def locator_page(
        self,
        viewer: Viewer,
        session: Session,
        procedure: Annotated[str, Parameter(max_length=20)] = "",
        ward: Annotated[str, Parameter(max_length=120)] = "",
        address: Annotated[str, Parameter(max_length=300)] = "",
        lat: Annotated[str, Parameter(max_length=30)] = "",
        lon: Annotated[str, Parameter(max_length=30)] = "",
    ) -> Template:
        values = {"procedure": procedure, "ward": ward, "address": address, "lat": lat, "lon": lon}
        context: dict[str, Any] = {
            "actor": viewer,
            "procedures": procedures.list_published(session),
            "wards": wards.all_wards(session),
            "values": values,
            "found": None,
            "origin": None,
            "errors": {},
            "message": None,
            "note": DIAGRAM_NOTE,
        }
        status = 200
        if procedure or ward or address or lat or lon:
            try:
                context["origin"], context["found"] = _search(session, values)
            except DomainError as exc:
                if exc.status_code not in (404, 422):
                    raise
                status, context["message"], context["errors"] = exc.status_code, exc.message, exc.field_errors
        found = context["found"] or []
        context["map_points"] = json.dumps(
            [
                {
                    "name": f.point.name,
                    "lat": f.point.latitude,
                    "lon": f.point.longitude,
                    "open": f.open_now,
                    "km": f.distance_km,
                }
                for f in found
            ],
            ensure_ascii=False,
        )
        return map_page("public/locator.html", "/locator", status_code=status, **context)

    @get(
        "/api/v1/public/points",
        sync_to_thread=True,
        opt=public_work("public locator API", "api"),
        raises=raises(NotFound, ValidationFailed),
    )
    def nearest_points(
        self,
        session: Session,
        # The box is described (not enforced by Litestar): the service answers 422 outside it, with its message.
        lat: Annotated[
            float,
            Parameter(
                description="Latitude (WGS 84) of the citizen, in Vietnam",
                schema_extra={"minimum": VIETNAM_BOUNDS[0], "maximum": VIETNAM_BOUNDS[1]},
            ),
        ],
        lon: Annotated[
            float,
            Parameter(
                description="Longitude (WGS 84) of the citizen, in Vietnam",
                schema_extra={"minimum": VIETNAM_BOUNDS[2], "maximum": VIETNAM_BOUNDS[3]},
            ),
        ],
        procedure: Annotated[str, Parameter(max_length=20, description="The procedure's national code, e.g. 1.001193")],
        limit: Annotated[int, Parameter(ge=1, le=locator.MAX_LIMIT, description="How many points")] = 10,
    ) -> PointsNearOut:
        """The nearest approved points offering the procedure, nearest first, with whether each is open now and
        today's opening periods (Hanoi time). Distances are straight lines. No authentication.

        404: no published procedure has that code. 422: the coordinates are outside Vietnam."""
        return PointsNearOut([PointNearOut.of(f) for f in locator.nearest(session, lat, lon, procedure, limit)])

    # An approved point's premises photo, for the citizen looking for the place.
    @get(
        "/points/{point_id:uuid}/photo",
        sync_to_thread=True,
        opt=public_work("public premises photo of a point"),
        include_in_schema=False,
    )
    def point_photo(self, session: Session, point_id: FromPath[uuid.UUID]) -> Response[bytes]:
        return photo_response(photo.public_photo(session, point_id))

    @get("/api/v1/public/wards", sync_to_thread=False)
    def ward_map(self) -> dict[str, Any]:
        """Hanoi's 126 communes and wards as a GeoJSON schematic (Voronoi cells of their centroids: a diagram,
        not legal boundaries), each with its code and name."""
        return wards.schematic()


def _search(session: Session, values: dict[str, str]) -> tuple[dict[str, Any], list[locator.Found]]:
    """Where the citizen is (coordinates, a ward, or a ward named in an address), then the nearest points."""
    if not values["procedure"]:
        raise ValidationFailed("Hãy chọn thủ tục", field_errors={"procedure": N_("Bắt buộc chọn")})
    origin: dict[str, Any]
    lat, lon = _number(values["lat"]), _number(values["lon"])
    if lat is not None and lon is not None:
        origin = {"label": N_("Vị trí của bạn"), "lat": lat, "lon": lon}
    else:
        ward = wards.find_ward(session, values["ward"]) if values["ward"] else None
        if ward is None and values["address"]:
            ward = wards.ward_in_address(session, values["address"])
            if ward is None:
                raise ValidationFailed(
                    "Không nhận ra phường, xã trong địa chỉ; hãy chọn phường, xã",
                    field_errors={"address": N_("Không tìm thấy phường, xã trong địa chỉ")},
                )
        if ward is None:
            raise ValidationFailed(
                "Hãy cho biết vị trí: địa chỉ, phường, xã hoặc vị trí hiện tại",
                field_errors={"ward": N_("Bắt buộc chọn")},
            )
        origin = {"label": ward.name, "lat": ward.latitude, "lon": ward.longitude}
    return origin, locator.nearest(session, origin["lat"], origin["lon"], values["procedure"], 10)
