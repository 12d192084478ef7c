"""The counter: agent staff file dossiers for citizens and follow them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from agents.dossiers import filing, queries
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.ratings.links import rating_token
from payments import queries as payment_queries
from portal.auth.guards import requires, signed_in
from portal.controllers.payments import payment_qr
from portal.core.db import attempt
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.deps import Actor, Session, partner_work
from portal.forms import DATE_HINT, date_fields, dates_to_iso
from portal.security.hosts import public_link
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _form_page(
    session: Session,
    actor: Actor,
    procedure: Procedure,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
    status_code: int = 200,
) -> Template:
    points = filing.points_for_filing(session, actor)
    if not points:
        raise PermissionDenied("Bạn chưa được phân công tại điểm đại lý nào đã được duyệt")
    if not values.get("idempotency_key"):
        values = {**values, "idempotency_key": uuid.uuid4().hex}
    return page(
        "dossiers/new.html",
        status_code=status_code,
        actor=actor,
        procedure=procedure,
        points=points,
        values=values,
        errors=errors,
        message=message,
    )


# What the staff see of each message to the citizen (agents/notifications/models.py).
NOTIFICATION_KINDS = {
    "received": N_("Đã tiếp nhận"),
    "supplement_requested": N_("Cần bổ sung giấy tờ"),
    "refused": N_("Không được tiếp nhận"),
    "stopped": N_("Dừng xử lý"),
    "result_ready": N_("Đã có kết quả"),
    "returned": N_("Đã trả kết quả"),
}
DELIVERY_STATES = {
    "pending": N_("Đang chờ gửi"),
    "sending": N_("Đang gửi"),
    "accepted": N_("Đã gửi đi"),
    "held": N_("Tạm giữ: cấu hình nhà cung cấp bị từ chối"),
    "delivered": N_("Đã đến người nhận"),
    "failed": N_("Không đến được người nhận"),
    "refused": N_("Không gửi được"),
    "gave_up": N_("Ngừng gửi sau nhiều lần lỗi"),
}


def _detail_context(session: Session, dossier: Any) -> dict[str, Any]:
    panel = payment_queries.panel_for(session, dossier)
    return {
        **queries.view_of(session, dossier).context(),
        "rating_token": rating_token(dossier.tracking_code),
        "panel": panel,
        "pay_qr": payment_qr(panel.live.payment_url) if panel.live else None,
        "pay_action": f"/dossiers/{dossier.id}/payments",
        "notifications": queries.notifications_of(session, dossier.id),
        "notification_kinds": NOTIFICATION_KINDS,
        "delivery_states": DELIVERY_STATES,
    }


class DossierController(Controller):
    path = "/"

    @get("/dossiers", sync_to_thread=True, guards=[requires(Permission.see_dossiers)], opt=partner_work(writes=True))
    def list_dossiers(self, actor: Actor, session: Session) -> Template:
        rows = queries.list_for_actor(session, actor)
        queries.record_list_view(session, rows)
        names = {p.id: p for p in procedures.list_published(session)}
        return page("dossiers/list.html", actor=actor, dossiers=rows, procedures=names)

    @get("/dossiers/new", sync_to_thread=True, guards=[requires(Permission.work_for_partner)], opt=partner_work())
    def choose_procedure(self, actor: Actor, session: Session) -> Template:
        return page("dossiers/choose.html", actor=actor, procedures=procedures.list_published(session))

    @get(
        "/dossiers/new/{code:str}", sync_to_thread=True, guards=[requires(Permission.file_dossiers)], opt=partner_work()
    )
    def new_dossier(self, actor: Actor, session: Session, code: FromPath[str]) -> Template:
        return _form_page(session, actor, procedures.get_published(session, code), {}, {})

    # Signed in is enough to reach it: the service answers another partner's point like a missing one (404).
    @post("/dossiers/new/{code:str}", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def file_dossier(self, actor: Actor, session: Session, code: FromPath[str], data: Form) -> Template | Redirect:
        procedure = procedures.get_published(session, code)
        # Dates are typed dd/mm/yyyy; the domain takes ISO. Text that is no date goes on
        # unchanged, so the domain refuses it together with every other error.
        typed, not_dates = dates_to_iso(data, ["owner_birth_date", *date_fields(procedure.form_schema, "form.")])
        form = {k[len("form.") :]: v for k, v in typed.items() if k.startswith("form.")}
        try:
            point_id = uuid.UUID(data.get("agent_point_id", ""))
        except ValueError:
            return _form_page(
                session,
                actor,
                procedure,
                data,
                {"agent_point_id": N_("Bắt buộc nhập")},
                N_("Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu"),
                422,
            )
        filing_request = filing.FilingRequest(
            procedure_code=code,
            agent_point_id=point_id,
            idempotency_key=data.get("idempotency_key", ""),
            citizen=typed,
            form=form,
            notify_sms=data.get("notify_sms") == "on",
            notify_email=data.get("notify_email") or None,
        )
        try:
            with attempt(session):
                filed = filing.file_dossier(session, actor, filing_request)
        except ValidationFailed as exc:
            errors = {**exc.field_errors, **dict.fromkeys(not_dates, DATE_HINT)}
            return _form_page(session, actor, procedure, data, errors, exc.message, 422)
        return Redirect(f"/dossiers/{filed.dossier.id}/receipt", status_code=303)

    @get(
        "/dossiers/{dossier_id:uuid}/receipt",
        sync_to_thread=True,
        guards=[requires(Permission.see_dossiers)],
        opt=partner_work(writes=True),  # the view of the citizen's data is audited
    )
    def receipt(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]
    ) -> Template:
        dossier = queries.view_personal_data(session, actor, dossier_id)
        return page(
            "dossiers/receipt.html",
            actor=actor,
            base_url=public_link("/").rstrip("/"),
            **_detail_context(session, dossier),
        )

    @get(
        "/dossiers/{dossier_id:uuid}",
        sync_to_thread=True,
        guards=[requires(Permission.see_dossiers)],
        opt=partner_work(writes=True),  # the view of the citizen's data is audited
    )
    def dossier_detail(self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]) -> Template:
        dossier = queries.view_personal_data(session, actor, dossier_id)
        return page("dossiers/detail.html", actor=actor, **_detail_context(session, dossier))
