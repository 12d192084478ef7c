"""Partner managers register and revoke their systems' API clients (the secret is shown once)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from agents.api_clients import service as api_clients
from agents.api_clients.models import API_SCOPES, ApiClient
from agents.points import service as points
from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import ValidationFailed
from portal.deps import Actor, Session, partner_work
from portal.templating import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _page(
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    created: ApiClient | None = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Template:
    clients = api_clients.list_clients(session, actor)
    choices = points.points_by_name(session)
    response = page(
        "partner/api_clients.html",
        status_code=status_code,
        actor=actor,
        clients=clients,
        points=choices,
        point_names={p.id: p.name for p in choices},
        owners=api_clients.owners_of(session, clients),
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
    guards = [requires(Permission.manage_api_clients)]

    @get("/", sync_to_thread=True, opt=partner_work())
    def index(self, actor: Actor, session: Session) -> Template:
        return _page(session, actor)

    @post("/", sync_to_thread=True, opt=partner_work())
    def register(self, actor: Actor, session: Session, data: Form) -> Template:
        raw_point = str(data.get("agent_point_id") or "")
        try:
            point_id = uuid.UUID(raw_point) if raw_point else None
        except ValueError:
            point_id = uuid.uuid4()  # not one of the partner's points: refused below
        try:
            with attempt(session):
                client, secret = api_clients.register_client(
                    session,
                    actor,
                    name=str(data.get("name") or ""),
                    scopes=_as_list(data.get("scopes")),
                    agent_point_id=point_id,
                )
        except ValidationFailed as exc:
            return _page(session, actor, values=data, errors=exc.field_errors, message=exc.message, status_code=422)
        return _page(session, actor, created=client, secret=secret)

    @post("/{client_id:str}/revoke", sync_to_thread=True, opt=partner_work())
    def revoke(self, actor: Actor, session: Session, client_id: FromPath[str], data: Form) -> Template | Redirect:
        try:
            with attempt(session):
                api_clients.revoke_client(session, actor, client_id, str(data.get("reason") or ""))
        except ValidationFailed as exc:
            return _page(
                session,
                actor,
                errors={f"reason:{client_id}": exc.field_errors.get("reason", "")},
                message=exc.message,
                status_code=422,
            )
        return Redirect("/partner/api-clients", status_code=303)
