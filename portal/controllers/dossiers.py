"""The counter: agent staff file dossiers for citizens and follow them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from agents.dossiers import service as dossiers
from agents.locations.models import AgentPoint
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.staff.models import Account
from portal.auth.session import partner_scope, require_actor
from portal.core.db import open_session
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _form_page(
    session: Any,
    actor: Any,
    procedure: Procedure,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
    status_code: int = 200,
) -> Template:
    points = dossiers.points_for_filing(session, actor)
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


def _detail_context(session: Any, dossier: Any) -> dict[str, Any]:
    return {
        "dossier": dossier,
        "procedure": session.get(Procedure, dossier.procedure_id),
        "point": session.get(AgentPoint, dossier.agent_point_id),
        "staff": session.get(Account, dossier.staff_account_id),
        "rating_token": dossiers.rating_token(dossier.tracking_code),
    }


class DossierController(Controller):
    path = "/"

    @get("/dossiers", sync_to_thread=True)
    def list_dossiers(self, request: Request[Any, Any, Any]) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            rows = dossiers.list_for_actor(session, actor)
            dossiers.record_list_view(session, rows)
            names = {p.id: p for p in procedures.list_published(session)}
            return page("dossiers/list.html", actor=actor, dossiers=rows, procedures=names)

    @get("/dossiers/new", sync_to_thread=True)
    def choose_procedure(self, request: Request[Any, Any, Any]) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            return page("dossiers/choose.html", actor=actor, procedures=procedures.list_published(session))

    @get("/dossiers/new/{code:str}", sync_to_thread=True)
    def new_dossier(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            return _form_page(session, actor, procedures.get_published(session, code), {}, {})

    @post("/dossiers/new/{code:str}", sync_to_thread=True)
    def file_dossier(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Template | Redirect:
        actor = require_actor(request)
        form = {k[len("form.") :]: v for k, v in data.items() if k.startswith("form.")}
        with open_session(partner_scope(request, actor)) as session:
            procedure = procedures.get_published(session, code)
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
            request_ = dossiers.FilingRequest(
                procedure_code=code,
                agent_point_id=point_id,
                idempotency_key=data.get("idempotency_key", ""),
                citizen=data,
                form=form,
            )
            try:
                filed = dossiers.file_dossier(session, actor, request_)
            except ValidationFailed as exc:
                return _form_page(session, actor, procedure, data, exc.field_errors, exc.message, 422)
        return Redirect(f"/dossiers/{filed.dossier.id}/receipt", status_code=303)

    @get("/dossiers/{dossier_id:uuid}/receipt", sync_to_thread=True)
    def receipt(self, request: Request[Any, Any, Any], dossier_id: FromPath[uuid.UUID]) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            dossier = dossiers.view_personal_data(session, actor, dossier_id)
            return page(
                "dossiers/receipt.html",
                actor=actor,
                base_url=str(request.base_url).rstrip("/"),
                **_detail_context(session, dossier),
            )

    @get("/dossiers/{dossier_id:uuid}", sync_to_thread=True)
    def dossier_detail(self, request: Request[Any, Any, Any], dossier_id: FromPath[uuid.UUID]) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            dossier = dossiers.view_personal_data(session, actor, dossier_id)
            return page("dossiers/detail.html", actor=actor, **_detail_context(session, dossier))
