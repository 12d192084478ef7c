"""The center's catalogue: the procedures and their versions, publishing a version, importing a catalogue file."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.policy import Permission
from agents.procedures import imports, publishing
from agents.procedures.models import ChargeTiming
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import DomainError
from portal.core.i18n import N_, Message
from portal.deps import Actor, Session, network_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def catalogue_page(
    session: Session,
    actor: Actor,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    report: imports.ImportReport | None = None,
) -> Template:
    return page(
        "center/procedures.html",
        status_code=status_code,
        actor=actor,
        procedures=publishing.all_procedures(session),
        charges=[c.value for c in ChargeTiming],
        modes=[m.value for m in imports.ImportMode],
        message=message,
        status_ok=status_code < 400,
        errors=errors or {},
        values=values or {},
        report=report,
    )


class CatalogueController(Controller):
    path = "/center/procedures"

    @get(
        "/",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads the catalogue"),
    )
    def catalogue(self, actor: Actor, session: Session) -> Template:
        return catalogue_page(session, actor)

    @get(
        "/{code:str}",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads a procedure's versions"),
    )
    def versions(self, actor: Actor, session: Session, code: FromPath[str]) -> Template:
        procedure = publishing.versions_of(session, code)
        return page("center/procedure.html", actor=actor, procedure=procedure, current=procedure.current)

    @post(
        "/",
        sync_to_thread=True,
        guards=[requires(Permission.publish_procedures)],
        opt=network_work("center publishes a procedure version"),
    )
    def publish(self, actor: Actor, session: Session, data: Form) -> Template:
        try:
            with attempt(session):
                version = publishing.publish_typed(session, actor, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return catalogue_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        message = Message("Đã công bố %(code)s, phiên bản %(number)s", code=version.code, number=version.number)
        return catalogue_page(session, actor, status_code=201, message=message)

    @post(
        "/import",
        sync_to_thread=True,
        guards=[requires(Permission.publish_procedures)],
        opt=network_work("center imports a catalogue file"),
    )
    def import_file(self, actor: Actor, session: Session, data: Upload) -> Template:
        """Check a CSV or JSON file row by row; publish its valid rows, all of them, or nothing, as chosen."""
        upload = data.get("file")
        mode = str(data.get("mode") or imports.ImportMode.check.value)
        try:
            if not isinstance(upload, UploadFile):
                raise publishing.refused({"file": N_("Chưa chọn tệp nào")})
            if mode not in {m.value for m in imports.ImportMode}:
                raise publishing.refused({"mode": N_("Giá trị không hợp lệ")})
            name = (upload.filename or "").lower()
            kind = "json" if name.endswith(".json") else "csv" if name.endswith(".csv") else ""
            with attempt(session):
                report = imports.import_catalogue(session, actor, upload.file.read(), kind=kind, mode=mode)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return catalogue_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors
            )
        refused = bool(report.problems) and not report.published
        return catalogue_page(session, actor, status_code=422 if refused else 200, report=report)
