"""Partner managers register and revoke their systems' API clients (the secret is shown once)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from agents.locations.models import AgentPoint
from agents.partners import api_access
from agents.partners.api_clients import API_SCOPES
from agents.staff.models import Account
from portal.auth.session import partner_scope, require_actor
from portal.core.db import read_only, unit_of_work
from portal.core.errors import ValidationFailed
from portal.templating import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _page(
    session: Any,
    actor: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    created: Any = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Template:
    clients = api_access.list_clients(session, actor)
    points = list(session.scalars(select(AgentPoint).order_by(AgentPoint.name)))
    owners = {c.owner_account_id: session.get(Account, c.owner_account_id) for c in clients}
    response = page(
        "partner/api_clients.html",
        status_code=status_code,
        actor=actor,
        clients=clients,
        points=points,
        point_names={p.id: p.name for p in points},
        owners=owners,
        scopes=API_SCOPES,
        values=values or {},
        errors=errors or {},
        message=message,
        created=created,
        secret=secret,
    )
    # The page may carry a secret shown once: never cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


class ApiClientController(Controller):
    path = "/partner/api-clients"

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any]) -> Template:
        actor = require_actor(request)
        with read_only(partner_scope(request, actor)) as session:
            return _page(session, actor)

    @post("/", sync_to_thread=True)
    def register(self, request: Request[Any, Any, Any], data: Form) -> Template:
        actor = require_actor(request)
        raw_point = str(data.get("agent_point_id") or "")
        with unit_of_work(partner_scope(request, actor)) as session:
            try:
                point_id = uuid.UUID(raw_point) if raw_point else None
            except ValueError:
                point_id = uuid.uuid4()  # not one of the partner's points: refused below
            try:
                client, secret = api_access.register_client(
                    session,
                    actor,
                    name=str(data.get("name") or ""),
                    scopes=_as_list(data.get("scopes")),
                    agent_point_id=point_id,
                )
            except ValidationFailed as exc:
                session.rollback()
                return _page(session, actor, values=data, errors=exc.field_errors, message=exc.message, status_code=422)
            return _page(session, actor, created=client, secret=secret)

    @post("/{client_id:str}/revoke", sync_to_thread=True)
    def revoke(self, request: Request[Any, Any, Any], client_id: FromPath[str], data: Form) -> Template | Redirect:
        actor = require_actor(request)
        with unit_of_work(partner_scope(request, actor)) as session:
            try:
                api_access.revoke_client(session, actor, client_id, str(data.get("reason") or ""))
            except ValidationFailed as exc:
                session.rollback()
                return _page(
                    session,
                    actor,
                    errors={f"reason:{client_id}": exc.field_errors.get("reason", "")},
                    message=exc.message,
                    status_code=422,
                )
        return Redirect("/partner/api-clients", status_code=303)
