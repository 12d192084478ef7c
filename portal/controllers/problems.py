"""Problem reports: a citizen files one with the tracking code and follows it; the partner's manager
and the center answer until it is resolved."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from agents.policy import Permission
from agents.problems import service as problems
from agents.problems.models import ProblemKind
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import DomainError, NotFound, ValidationFailed
from portal.deps import Actor, Session, Viewer, network_work, partner_work, public_work
from portal.security import rate_limits
from portal.security.hosts import public_link
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
KINDS = [k.value for k in ProblemKind]


def _follow_path(reference: str) -> str:
    return f"/problems/{reference}?token={problems.follow_token(reference)}"


def _new_page(
    viewer: Any, values: dict[str, str], *, status: int = 200, message: str | None = None, errors: Any = None
) -> Template:
    return page(
        "problems/new.html",
        status_code=status,
        actor=viewer,
        values=values,
        kinds=KINDS,
        message=message,
        errors=errors or {},
    )


def _citizen_page(viewer: Any, thread: problems.Thread, token: str, **extra: Any) -> Template:
    status = extra.pop("status", 200)
    return page(
        "problems/citizen.html",
        status_code=status,
        actor=viewer,
        thread=thread,
        token=token,
        follow_link=public_link(_follow_path(thread.report.reference)),
        errors=extra.pop("errors", {}),
        message=extra.pop("message", None),
        **extra,
    )


def _staff_page(session: Session, actor: Actor, base: str, **extra: Any) -> Template:
    status = extra.pop("status", 200)
    return page(
        "problems/list.html",
        status_code=status,
        actor=actor,
        threads=problems.threads(session),
        base=base,
        message=extra.pop("message", None),
        done=extra.pop("done", None),
    )


def _answer(session: Session, actor: Actor, report_id: uuid.UUID, data: dict[str, str], base: str) -> Template:
    resolve = data.get("resolve", "") in ("1", "on", "true")
    try:
        with attempt(session):
            problems.answer(session, actor, report_id, data.get("body", ""), resolve=resolve)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        return _staff_page(session, actor, base, status=exc.status_code, message=exc.message)
    return _staff_page(session, actor, base, done="resolved" if resolve else "answered")


class ProblemController(Controller):
    path = "/"

    @get("/problems/new", sync_to_thread=True)
    def new(self, viewer: Viewer, code: FromQuery[str] = "") -> Template:
        return _new_page(viewer, {"code": code[:40]})

    @post("/problems", sync_to_thread=True, opt=public_work("citizen reports a problem", "citizen (problem report)"))
    def file(self, request: Request[Any, Any, Any], viewer: Viewer, session: Session, data: Form) -> Any:
        code = data.get("code", "")
        rate_limits.check(request, "track", code.strip().upper())
        values = {k: data.get(k, "") for k in ("code", "kind", "description")}
        try:
            with attempt(session):
                report = problems.report(
                    session, code, data.get("phone", ""), data.get("kind", ""), data.get("description", "")
                )
        except ValidationFailed as exc:
            return _new_page(viewer, values, status=422, message=exc.message, errors=exc.field_errors)
        except NotFound as exc:
            return _new_page(viewer, values, status=404, message=exc.message)
        return Redirect(_follow_path(report.reference), status_code=303)

    @get(
        "/problems/{reference:str}",
        sync_to_thread=True,
        opt=public_work("citizen follows a problem report", "citizen (problem report)"),
    )
    def follow(
        self, viewer: Viewer, session: Session, reference: FromPath[str], token: FromQuery[str] = ""
    ) -> Template:
        return _citizen_page(viewer, problems.for_citizen(session, reference, token), token)

    @post(
        "/problems/{reference:str}/messages",
        sync_to_thread=True,
        opt=public_work("citizen replies to a problem report", "citizen (problem report)"),
    )
    def citizen_reply(self, viewer: Viewer, session: Session, reference: FromPath[str], data: Form) -> Template:
        token = data.get("token", "")
        try:
            with attempt(session):
                thread = problems.citizen_reply(session, reference, token, data.get("body", ""))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            thread = problems.for_citizen(session, reference, token)
            return _citizen_page(
                viewer, thread, token, status=exc.status_code, message=exc.message, errors=exc.field_errors
            )
        return _citizen_page(viewer, thread, token, sent=True)

    @get(
        "/partner/problems",
        sync_to_thread=True,
        guards=[requires(Permission.answer_problem_reports)],
        opt=partner_work(),
    )
    def partner_list(self, actor: Actor, session: Session) -> Template:
        return _staff_page(session, actor, "/partner/problems")

    @post(
        "/partner/problems/{report_id:uuid}/replies",
        sync_to_thread=True,
        guards=[requires(Permission.answer_problem_reports)],
        opt=partner_work(),
    )
    def partner_reply(self, actor: Actor, session: Session, report_id: FromPath[uuid.UUID], data: Form) -> Template:
        return _answer(session, actor, report_id, data, "/partner/problems")

    @get(
        "/center/problems",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads problem reports"),
    )
    def center_list(self, actor: Actor, session: Session) -> Template:
        return _staff_page(session, actor, "/center/problems")

    @post(
        "/center/problems/{report_id:uuid}/replies",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center answers a problem report"),
    )
    def center_reply(self, actor: Actor, session: Session, report_id: FromPath[uuid.UUID], data: Form) -> Template:
        return _answer(session, actor, report_id, data, "/center/problems")
