"""Agent points: a partner manager registers them; the center approves or closes them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.documents.rules import DocumentRefused
from agents.documents.service import ScanningUnavailable
from agents.points import hours, offer, photo
from agents.points import rules as point_rules
from agents.points import service as points
from agents.points.models import AgentPointStatus
from agents.policy import Permission
from agents.wards import service as wards
from portal.auth.guards import requires
from portal.controllers.partners import center_action, network_page
from portal.core.db import attempt
from portal.core.errors import DomainError, ValidationFailed
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def photo_response(picture: photo.Photo) -> Response[bytes]:
    """The stored picture as it was checked (its type by content), never sniffed, revalidated by its hash."""
    return Response(
        picture.content,
        media_type=picture.content_type,
        headers={"Cache-Control": "private, no-cache", "ETag": f'"{picture.content_hash}"'},
    )


def _points_page(
    session: Session,
    actor: Actor,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    return page(
        "partner/points.html",
        status_code=status_code,
        actor=actor,
        points=points.list_points(session),
        wards=wards.all_wards(session),
        message=message,
        errors=errors or {},
        values=values or {},
    )


MANAGERS_ONLY = N_("Trang này dành cho quản lý đối tác")


class PointController(Controller):
    path = "/"

    @get(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points, message=MANAGERS_ONLY)],
        opt=partner_work(),
    )
    def list_points(self, actor: Actor, session: Session) -> Template:
        return _points_page(session, actor)

    @post(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points)],
        opt=partner_work(),
    )
    def register_point(self, actor: Actor, session: Session, data: Form) -> Template:
        try:
            with attempt(session):
                points.register_point(session, actor, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return _points_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        return _points_page(session, actor, status_code=201)

    @post(
        "/center/points/{point_id:uuid}/status",
        sync_to_thread=True,
        guards=[requires(Permission.approve_points)],
        opt=network_work("center approves or closes a point"),
    )
    def point_status(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Form) -> Template:
        try:
            status = AgentPointStatus(data.get("status", ""))
        except ValueError:
            return network_page(session, actor, status_code=422, message=N_("Giá trị không hợp lệ"))
        return center_action(
            session, actor, lambda: points.set_status(session, actor, point_id, status, data.get("reason", ""))
        )

    # The premises photo, for the center deciding on the point (pending points included).
    @get(
        "/center/points/{point_id:uuid}/photo",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center looks at a point's premises photo"),
        include_in_schema=False,
    )
    def point_photo(self, session: Session, point_id: FromPath[uuid.UUID]) -> Response[bytes]:
        return photo_response(photo.network_photo(session, point_id))


def _sheet_page(
    session: Session,
    actor: Actor,
    point_id: uuid.UUID,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
) -> Template:
    return page(
        "partner/point.html",
        status_code=status_code,
        actor=actor,
        sheet=offer.point_sheet(session, actor, point_id),
        weekdays=point_rules.WEEKDAYS,
        day_labels=point_rules.DAY_LABELS,
        shifts=range(1, point_rules.SHIFTS + 1),
        message=message,
        errors=errors or {},
        values=values,
        done=done,
    )


def _sheet_action(
    session: Session, actor: Actor, point_id: uuid.UUID, data: dict[str, str], action: Callable[[], object], done: str
) -> Template:
    try:
        with attempt(session):
            action()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        return _sheet_page(
            session,
            actor,
            point_id,
            status_code=exc.status_code,
            message=exc.message,
            errors=exc.field_errors,
            values=data,
        )
    return _sheet_page(session, actor, point_id, done=done)


class PointSheetController(Controller):
    """One point's week, closures and offered procedures, for the partner's manager."""

    path = "/partner/points/{point_id:uuid}"
    guards = [requires(Permission.manage_points, message=MANAGERS_ONLY)]

    @get("/", sync_to_thread=True, opt=partner_work())
    def sheet(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID]) -> Template:
        return _sheet_page(session, actor, point_id)

    @post("/hours", sync_to_thread=True, opt=partner_work())
    def set_hours(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Form) -> Template:
        return _sheet_action(
            session,
            actor,
            point_id,
            data,
            lambda: hours.set_week(session, actor, point_id, data),
            N_("Đã lưu giờ mở cửa"),
        )

    @post("/closures", sync_to_thread=True, opt=partner_work())
    def add_closure(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Form) -> Template:
        return _sheet_action(
            session,
            actor,
            point_id,
            data,
            lambda: hours.add_closure(session, actor, point_id, data),
            N_("Đã lưu đợt tạm đóng cửa"),
        )

    @post("/closures/{closure_id:uuid}/cancel", sync_to_thread=True, opt=partner_work())
    def cancel_closure(
        self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], closure_id: FromPath[uuid.UUID]
    ) -> Template:
        return _sheet_action(
            session,
            actor,
            point_id,
            {},
            lambda: hours.cancel_closure(session, actor, point_id, closure_id),
            N_("Đã hủy đợt tạm đóng cửa"),
        )

    @post("/procedures", sync_to_thread=True, opt=partner_work())
    def set_procedures(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Form) -> Template:
        codes = [name.removeprefix("offer:") for name, value in data.items() if name.startswith("offer:") and value]
        return _sheet_action(
            session,
            actor,
            point_id,
            {},
            lambda: offer.set_offered(session, actor, point_id, codes),
            N_("Đã lưu các thủ tục của điểm"),
        )

    @post("/photo", sync_to_thread=True, opt=partner_work(), include_in_schema=False)
    def set_premises_photo(
        self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Upload
    ) -> Template:
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile):
                raise ValidationFailed("Chưa chọn tệp nào", field_errors={"photo": N_("Chưa chọn tệp nào")})
            with attempt(session):
                photo.set_photo(session, actor, point_id, upload.file.read())
        except (DocumentRefused, ScanningUnavailable, ValidationFailed) as exc:
            status = 503 if isinstance(exc, ScanningUnavailable) else 422
            return _sheet_page(session, actor, point_id, status_code=status, message=exc.message,
                               errors={"photo": exc.message})  # fmt: skip
        return _sheet_page(session, actor, point_id, done=N_("Đã lưu ảnh trụ sở của điểm"))

    @get("/photo", sync_to_thread=True, opt=partner_work(), include_in_schema=False)
    def premises_photo(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID]) -> Response[bytes]:
        return photo_response(photo.managed_photo(session, actor, point_id))
