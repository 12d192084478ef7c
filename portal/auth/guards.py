"""Route guards: who may reach a route at all, asked of agents.policy before the handler runs.

- `signed_in`: anyone signed in (the service then decides about the object: a
  dossier of another point answers 404 exactly like one that does not exist).
- `requires(permission)`: the permission must be held, at the person's active
  partner for a partner's permission, at the center for the center's. Nobody
  signed in is sent to /login (or answered 401 under /api); a person without
  it gets 403.
- `api_caller`: JSON API routes that accept a partner system's bearer token or
  a signed-in person (`opt=api_work(token_scope)`): a bad token is 401 (and on
  the record), a token without the route's scope 403. The caller is kept for
  the handler's dependencies (portal/deps.py).

Guards never look at a specific object: refusing "that dossier" is the
service's job, so that the answer cannot tell foreign objects from missing ones.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from agents import policy
from agents.policy import Permission
from portal.auth.api_tokens import api_caller as resolve_api_caller
from portal.auth.session import active_partner_id, require_actor


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    require_actor(connection)


def api_caller(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    work = handler.opt.get("work")
    token_scope = getattr(work, "token_scope", "")
    if not token_scope:
        raise RuntimeError(f"{connection.url.path}: the api_caller guard needs opt=api_work(token_scope)")
    connection.state["caller"] = resolve_api_caller(connection, token_scope)  # type: ignore[arg-type]


def requires(permission: Permission, *, message: str | None = None) -> Guard:
    """A guard that lets through only those who hold `permission` (see the module docstring)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = require_actor(connection)
        if permission in policy.CENTER_PERMISSIONS:
            policy.require(actor, permission, message=message)
        else:
            policy.require(actor, permission, partner_id=active_partner_id(connection, actor), message=message)

    guard.__name__ = f"requires_{permission.value}"
    return guard
