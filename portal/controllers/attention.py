"""Dossiers that need someone: due soon, overdue, never acknowledged by the city, never sent.

`/dossiers/attention` for a point's lead and staff (their points) and a partner manager (the
partner's); `/center/attention` for the center (every partner), where an admin sends again a
dossier the city never took.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from agents.dossiers import attention, forwarding, supplements
from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.settings import get_settings
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page


def _ack_timeout() -> timedelta:
    return timedelta(minutes=get_settings().city.ack_timeout_minutes)


class AttentionController(Controller):
    path = "/"

    @get("/dossiers/attention", sync_to_thread=True, guards=[requires(Permission.see_dossiers)], opt=partner_work())
    def for_partner(self, actor: Actor, session: Session) -> Template:
        lists = attention.needing_attention(session, actor, ack_timeout=_ack_timeout())
        return page("dossiers/attention.html", actor=actor, lists=lists, center=False, ack=_ack_timeout())

    @get(
        "/center/attention",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center: dossiers needing attention"),
    )
    def for_center(self, actor: Actor, session: Session) -> Template:
        lists = attention.needing_attention(session, None, ack_timeout=_ack_timeout())
        return page("dossiers/attention.html", actor=actor, lists=lists, center=True, ack=_ack_timeout())

    @get(
        "/center/supplements",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center: dossiers asked for more documents more than once"),
    )
    def supplement_breaches(self, actor: Actor, session: Session) -> Template:
        return page("center/supplements.html", actor=actor, breaches=supplements.breaches(session))

    @post(
        "/center/dossiers/{dossier_id:uuid}/send-again",
        sync_to_thread=True,
        guards=[requires(Permission.resend_dossiers)],
        opt=network_work("center sends again a dossier the city never took", writes=True),
    )
    def send_again(self, session: Session, dossier_id: FromPath[uuid.UUID]) -> Redirect:
        forwarding.send_again(session, dossier_id)
        return Redirect("/center/attention", status_code=303)
