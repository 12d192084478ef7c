"""The center reviews flagged ratings: the evidence, and leaving one out of the averages (with a reason)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.policy import Permission
from agents.ratings import flags
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import DomainError
from portal.deps import Actor, Session, network_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _flags_page(
    session: Session, actor: Actor, *, status_code: int = 200, message: str | None = None, done: str | None = None
) -> Template:
    return page(
        "center/rating_flags.html",
        status_code=status_code,
        actor=actor,
        flagged=flags.flagged(session),
        reasons=flags.REASONS,
        message=message,
        done=done,
    )


class RatingController(Controller):
    path = "/"

    @get(
        "/center/ratings/flags",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reviews flagged ratings"),
    )
    def flagged(self, actor: Actor, session: Session) -> Template:
        return _flags_page(session, actor)

    @post(
        "/center/ratings/{rating_id:uuid}/exclusion",
        sync_to_thread=True,
        guards=[requires(Permission.review_ratings)],
        opt=network_work("center excludes or counts again a flagged rating"),
    )
    def exclusion(self, actor: Actor, session: Session, rating_id: FromPath[uuid.UUID], data: Form) -> Template:
        exclude = data.get("action", "exclude") != "include"
        try:
            with attempt(session):
                flags.exclude(session, actor, rating_id, data.get("reason", ""), exclude=exclude)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return _flags_page(session, actor, status_code=exc.status_code, message=exc.message)
        return _flags_page(session, actor, done="excluded" if exclude else "included")
