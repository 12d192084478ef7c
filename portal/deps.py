"""What a handler is given, so that it only parses its input, calls a service and answers.

A route declares how its unit of work is scoped with `opt=`:

    partner_work()              the signed-in person's active partner
    network_work(reason)        the center's explicit cross-partner scope (center people only)
    check_work(reason)          a cross-partner scope for the one check a service makes across
                                partners (any signed-in person; the service decides what they may do)
    public_work(reason, label)  nobody signed in: a cross-partner scope that says why
    api_work(token_scope)       a partner system's bearer token, or a signed-in person

and takes what it needs as parameters (resolved by name):

    actor: Actor                the signed-in person, or the API client acting as staff at its point
                                (no one signed in: AuthenticationFailed, a redirect to /login or a 401)
    viewer: Viewer              the signed-in person if any (public pages show their navigation)
    active_partner_id: ActivePartner   the partner the person works for now
    caller: ApiCaller           for API routes: who calls, and with which token
    tenancy: Scope              the declared scope of the route's unit of work
    session: Session            the route's unit of work (portal.core.db)

`session` is one unit of work per request: it commits once, after the handler
has answered (pages are rendered inside it), and rolls back if the handler or
its page raises. GET and HEAD routes get a read-only unit unless they declare
`writes=True` (a page that records a view of citizens' data writes its audit
entry); other methods get a writing unit unless they declare `writes=False`.
A handler that must act in one scope and show a page in another (or hold no
transaction across an outside call) opens its extra units itself with
`portal.core.db.unit_of_work` / `read_only`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Literal

from anyio import to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from sqlalchemy.orm import Session as _Session

from agents.staff.actor import Actor as _Actor
from portal.auth.api_tokens import Caller, api_caller
from portal.auth.session import active_partner_id, client_ip, current_actor
from portal.core.db import begin_unit, end_unit
from portal.core.errors import AuthenticationFailed
from portal.core.tenancy import Scope

# The types handlers annotate their parameters with; each is marked as injected by name.
Actor = NamedDependency[_Actor]
Viewer = NamedDependency[_Actor | None]
ActivePartner = NamedDependency[uuid.UUID]
Session = NamedDependency[_Session]
ApiCaller = NamedDependency[Caller]

__all__ = ["DEPENDENCIES", "ActivePartner", "Actor", "ApiCaller", "Session", "Viewer", "Work"]

WorkKind = Literal["partner", "network", "check", "public", "api"]


@dataclass(frozen=True)
class Work:
    """How a route's unit of work is scoped (see the module docstring)."""

    kind: WorkKind
    reason: str = ""
    actor_label: str = ""
    token_scope: str = ""
    writes: bool | None = None  # None: GET/HEAD read, other methods write


def partner_work(*, writes: bool | None = None) -> dict[str, Any]:
    return {"work": Work("partner", writes=writes)}


def network_work(reason: str, *, writes: bool | None = None) -> dict[str, Any]:
    return {"work": Work("network", reason=reason, writes=writes)}


def check_work(reason: str, *, writes: bool | None = None) -> dict[str, Any]:
    return {"work": Work("check", reason=reason, writes=writes)}


def public_work(
    reason: str, actor_label: str = "citizen (public page)", *, writes: bool | None = None
) -> dict[str, Any]:
    return {"work": Work("public", reason=reason, actor_label=actor_label, writes=writes)}


def api_work(token_scope: str, *, writes: bool | None = None) -> dict[str, Any]:
    return {"work": Work("api", token_scope=token_scope, writes=writes)}


def work_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Work:
    work = connection.route_handler.opt.get("work")
    if not isinstance(work, Work):
        raise RuntimeError(f"route {connection.url.path} takes a session but declares no unit of work (opt=...)")
    return work


@dataclass(frozen=True)
class Who:
    """Who is calling, resolved once per request: a signed-in person, or a partner system's token."""

    actor: _Actor | None
    caller: Caller | None = None


def provide_who(request: Request[Any, Any, Any]) -> Who:
    work = request.route_handler.opt.get("work")
    if isinstance(work, Work) and work.kind == "api":
        # Resolved by the api_caller guard already; 401 / 403 for a bad or insufficient token.
        caller = request.state.get("caller") or api_caller(request, work.token_scope)
        return Who(caller.actor, caller)
    return Who(current_actor(request))


def provide_viewer(who: NamedDependency[Who]) -> _Actor | None:
    return who.actor


def provide_actor(who: NamedDependency[Who]) -> _Actor:
    if who.actor is None:
        raise AuthenticationFailed("Vui lòng đăng nhập")
    return who.actor


def provide_caller(who: NamedDependency[Who]) -> Caller:
    if who.caller is None:
        raise RuntimeError("the caller dependency is for API routes (opt=api_work(...))")
    return who.caller


def provide_active_partner_id(request: Request[Any, Any, Any], actor: NamedDependency[_Actor]) -> uuid.UUID:
    return active_partner_id(request, actor)


def provide_tenancy(request: Request[Any, Any, Any], who: NamedDependency[Who]) -> Scope:
    """The declared scope of the route's unit of work, for whoever is calling."""
    work = work_of(request)
    origin = client_ip(request)
    if work.kind == "api":
        assert who.caller is not None
        return who.caller.scope
    if work.kind == "public":
        return Scope.network(work.reason, actor_label=work.actor_label, origin=origin)
    actor = provide_actor(who)
    if work.kind == "partner":
        return actor.partner_scope(active_partner_id(request, actor), origin=origin)
    if work.kind == "network":
        return actor.network_scope(work.reason, origin=origin)
    # "check": a cross-partner read made for one decision; the service checks who may act.
    return Scope.network(work.reason, actor_id=actor.account_id, actor_label=actor.label, origin=origin)


async def provide_session(
    request: Request[Any, Any, Any], tenancy: NamedDependency[Scope]
) -> AsyncGenerator[_Session, None]:
    """The route's unit of work: committed after the handler has answered, rolled back if it raised."""
    work = work_of(request)
    writes = work.writes if work.writes is not None else request.method not in ("GET", "HEAD")
    session = begin_unit(tenancy, read_only=not writes)  # no connection is taken yet
    try:
        yield session
    except BaseException:
        await to_thread.run_sync(lambda: end_unit(session, commit=False))
        raise
    await to_thread.run_sync(lambda: end_unit(session, commit=True))


DEPENDENCIES = {
    "who": Provide(provide_who, sync_to_thread=True),
    "viewer": Provide(provide_viewer, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "caller": Provide(provide_caller, sync_to_thread=False),
    "active_partner_id": Provide(provide_active_partner_id, sync_to_thread=False),
    "tenancy": Provide(provide_tenancy, sync_to_thread=True),
    "session": Provide(provide_session),
}
