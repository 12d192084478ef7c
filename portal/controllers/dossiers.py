"""The counter: agent staff file dossiers for citizens and follow them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from agents.documents import service as documents
from agents.documents.rules import DocumentRefused
from agents.dossiers import (
    city_requests,
    drafts,
    filing,
    follow_ups,
    identity,
    queries,
    returning,
    supplements,
    withdrawals,
)
from agents.dossiers.models import CityStatus, DossierDraft, DraftState
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.ratings.links import rating_token
from payments import queries as payment_queries
from portal.auth.guards import requires, signed_in
from portal.controllers.api import supplied_files, text_field, withdrawal_request
from portal.controllers.payments import payment_qr
from portal.core.db import attempt
from portal.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from portal.core.i18n import N_, Message
from portal.core.printing import qr_svg, render_pdf
from portal.core.settings import get_settings
from portal.deps import Actor, Session, partner_work
from portal.forms import DATE_HINT, date_fields, dates_to_iso
from portal.templating import TEMPLATE_DIR, page, render_text

RECEIPT_CSS = TEMPLATE_DIR / "print" / "receipt.css"

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _form_page(
    session: Session,
    actor: Actor,
    draft: DossierDraft,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None = None,
    status_code: int = 200,
    document_errors: dict[str, Any] | None = None,
    *,
    notice: str | None = None,
    lookup_errors: dict[str, Any] | None = None,
    identity_errors: dict[str, Any] | None = None,
    identity_party: str | None = None,
) -> Template:
    procedure = drafts.procedure_of(session, draft)
    if not filing.points_for_filing(session, actor):
        raise PermissionDenied("Bạn chưa được phân công tại điểm đại lý nào đã được duyệt")
    # Only the points that offer this procedure: none left (its offer withdrawn since the draft began) says so.
    points = filing.points_for_filing(session, actor, procedure.id)
    if not points:
        errors = {**errors, "procedure_code": filing.NOT_OFFERED}
    counter = get_settings().counter
    return page(
        "dossiers/new.html",
        status_code=status_code,
        actor=actor,
        draft=draft,
        procedure=procedure,
        points=points,
        values={**values, "idempotency_key": draft.idempotency_key},
        errors=errors,
        message=message,
        counter=counter,
        slots=documents.slots_of(session, actor, draft.id),
        document_errors=document_errors or {},
        max_upload=f"{counter.document_max_bytes / (1024 * 1024):.0f} MB",
        consent=returning.consent_of(session, draft.id),
        consent_version=returning.CURRENT_CONSENT,
        consent_text=returning.CONSENT_TEXTS[returning.CURRENT_CONSENT],
        notice=notice,
        lookup_errors=lookup_errors or {},
        identity_checks=identity.checks_of(session, draft.id),
        identity_documents=identity.DOCUMENT_LABELS,
        identity_errors=identity_errors or {},
        identity_party=identity_party,
        party_labels=identity.PARTY_LABELS,
        slot_states=documents.STATE_LABELS,
    )


LOOKUP_NOTICES = {
    "found": N_(
        "Đã tìm thấy công dân trong các hồ sơ trước tại đối tác này và điền sẵn %(num)s trường; hãy đối chiếu với công dân."
    ),
    "none": N_("Không tìm thấy hồ sơ trước nào của công dân này tại đối tác; nhập thông tin như công dân mới."),
}


def _submit(
    session: Session, actor: Actor, procedure: Procedure, draft: DossierDraft | None, data: dict[str, str]
) -> Template | Redirect:
    """File once what was posted: through its draft (saved first, so a refusal loses nothing), or,
    for a post without a draft, with the posted key; the form again with its errors if refused."""
    if draft is not None and draft.state is DraftState.submitted:
        filed = drafts.submit(session, actor, draft.id, agent_point_id=None, citizen={}, form={})
        return Redirect(f"/dossiers/{filed.dossier.id}/receipt", status_code=303)
    if draft is not None:
        drafts.save(session, actor, draft.id, data)
    # Dates are typed dd/mm/yyyy; the domain takes ISO. Text that is no date goes on
    # unchanged, so the domain refuses it together with every other error.
    typed, not_dates = dates_to_iso(data, ["owner_birth_date", *date_fields(procedure.form_schema, "form.")])
    form = {k[len("form.") :]: v for k, v in typed.items() if k.startswith("form.")}
    # How the citizen wants to be told of the dossier's news (agents/notifications).
    notify: dict[str, Any] = {
        "notify_sms": data.get("notify_sms") == "on",
        "notify_email": data.get("notify_email") or None,
    }
    try:
        point_id: uuid.UUID | None = uuid.UUID(data.get("agent_point_id", ""))
    except ValueError:
        point_id = None
    try:
        with attempt(session):
            if point_id is None:
                raise ValidationFailed(
                    "Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu",
                    field_errors={"agent_point_id": N_("Bắt buộc nhập")},
                )
            if draft is not None:
                filed = drafts.submit(
                    session, actor, draft.id, agent_point_id=point_id, citizen=typed, form=form, **notify
                )
            else:
                request = filing.FilingRequest(
                    procedure.code, point_id, data.get("idempotency_key", ""), typed, form, **notify
                )
                filed = filing.file_dossier(session, actor, request)
    except ValidationFailed as exc:
        if draft is None:  # shown again as a draft, so that from now on nothing typed is lost
            draft = drafts.start(session, actor, procedure.code)
            drafts.save(session, actor, draft.id, data)
        errors = {**exc.field_errors, **dict.fromkeys(not_dates, DATE_HINT)}
        missing = {k.removeprefix("documents."): v for k, v in errors.items() if k.startswith("documents.")}
        return _form_page(session, actor, draft, data, errors, exc.message, 422, document_errors=missing)
    return Redirect(f"/dossiers/{filed.dossier.id}/receipt", status_code=303)


def _saved(draft: DossierDraft) -> dict[str, Any]:
    return {"saved_at": draft.saved_at.isoformat() if draft.saved_at else None, "active_seconds": draft.active_seconds}


def _receipt_context(session: Session, dossier: Any) -> dict[str, Any]:
    """What the receipt shows, on the page and in the PDF: links start with the public URL."""
    public_url = get_settings().web.public_url
    track_url = f"{public_url}/track?code={dossier.tracking_code}"
    view = queries.view_of(session, dossier)
    return {
        **_detail_context(session, dossier),
        "base_url": public_url,
        "track_url": track_url,
        "tracking_qr": qr_svg(track_url, size_mm=28, title=dossier.tracking_code),
        "rating_qr": qr_svg(
            f"{public_url}/rate/{dossier.tracking_code}?token={rating_token(dossier.tracking_code, dossier.submitted_at)}",
            size_mm=22,
            title=dossier.tracking_code,
        ),
        "received": documents.received_with(session, dossier.id, view.procedure.required_documents),
    }


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


CITY_REQUEST_STATES = {
    "pending": N_("Đang chờ gửi sang hệ thống một cửa"),
    "sending": N_("Đang gửi sang hệ thống một cửa"),
    "sent": N_("Hệ thống một cửa đã nhận"),
    "refused": N_("Hệ thống một cửa không nhận"),
}


def _after_counter(session: Session, actor: Actor, dossier: Any) -> dict[str, Any]:
    """What the page shows and offers once the dossier is at the city: supplement, withdrawal, tasks."""
    asked = supplements.requests_made(session, dossier.id)
    status = CityStatus(dossier.city_status) if dossier.city_status else None
    return {
        "supplement_round": supplements.waiting_round(session, dossier),
        "supplement_note": supplements.city_note(session, dossier) if asked else "",
        "supplement_changes": {n: supplements.changes_of(session, dossier, n) for n in range(1, asked + 1)},
        "supplement_slots": documents.slot_names(queries.view_of(session, dossier).procedure.required_documents),
        "supplements_asked": asked,
        "city_requests": city_requests.of_dossier(session, dossier.id),
        "follow_ups": follow_ups.of_dossier(session, dossier.id),
        "city_reason": queries.city_reason(dossier),
        "may_withdraw": dossier.state.value == "forwarded" and status in withdrawals.WITHDRAWABLE,
        "city_request_states": CITY_REQUEST_STATES,
        "closed": dossier.city_status
        in (CityStatus.returned, CityStatus.withdrawn, CityStatus.refused, CityStatus.stopped),
    }


def _detail_context(session: Session, dossier: Any) -> dict[str, Any]:
    panel = payment_queries.panel_for(session, dossier)
    return {
        **queries.view_of(session, dossier).context(),
        "rating_token": rating_token(dossier.tracking_code, dossier.submitted_at),
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
        return page(
            "dossiers/choose.html",
            actor=actor,
            procedures=filing.procedures_for_filing(session, actor),
            drafts=drafts.open_drafts(session, actor),
        )

    # Picking the procedure starts the draft (and gives it its idempotency key); the page is the draft's own.
    @get(
        "/dossiers/new/{code:str}",
        sync_to_thread=True,
        guards=[requires(Permission.file_dossiers)],
        opt=partner_work(writes=True),
    )
    def new_dossier(self, actor: Actor, session: Session, code: FromPath[str]) -> Redirect:
        draft = drafts.start(session, actor, code)
        return Redirect(f"/drafts/{draft.id}", status_code=303)

    # A form posted to the filing address (a page loaded before drafts existed, a script): its key
    # names its draft, which is submitted like any other; a key without a draft files directly.
    # Signed in is enough to reach it: the service answers another partner's point like a missing one (404).
    @post("/dossiers/new/{code:str}", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def file_dossier(self, actor: Actor, session: Session, code: FromPath[str], data: Form) -> Template | Redirect:
        procedure = procedures.get_published(session, code)
        return _submit(
            session, actor, procedure, drafts.draft_for_key(session, actor, data.get("idempotency_key", "")), data
        )

    @get("/drafts/{draft_id:uuid}", sync_to_thread=True, guards=[signed_in], opt=partner_work(writes=True))
    def draft_page(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, draft_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        draft = drafts.opened(session, actor, draft_id)
        if draft.state is DraftState.submitted:
            return Redirect(f"/dossiers/{draft.dossier_id}/receipt", status_code=303)
        if draft.state is DraftState.discarded:
            return Redirect("/dossiers/new", status_code=303)
        notice = None
        if (found := request.query_params.get("lookup")) in LOOKUP_NOTICES:
            prefilled = request.query_params.get("prefilled", "0")
            notice = Message(LOOKUP_NOTICES[found], num=int(prefilled) if prefilled.isdigit() else 0)
        return _form_page(session, actor, draft, drafts.values_of(draft), {}, notice=notice)

    # A returning citizen: their consent for this filing, then a look-up by CCCD or phone among this
    # partner's earlier dossiers, which prefills the draft (agents/dossiers/returning.py).
    @post("/drafts/{draft_id:uuid}/returning", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def returning_citizen(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        given_by = data.get("consent_given_by", "") if data.get("consent") == "on" else None
        try:
            found = returning.consent_and_look_up(
                session, actor, draft_id, data.get("identifier", ""), consent_given_by=given_by
            )
        except (ValidationFailed, returning.ConsentRequired) as exc:
            draft = drafts.get_own(session, actor, draft_id)
            errors = dict(exc.field_errors) or {"consent": exc.message}
            return _form_page(
                session, actor, draft, drafts.values_of(draft), {}, exc.message, 422, lookup_errors=errors
            )
        outcome = f"found&prefilled={len(found.prefilled)}" if found.dossier else "none"
        return Redirect(f"/drafts/{draft_id}?lookup={outcome}#citizen", status_code=303)

    # The identity check: which document was seen, its number matched against the party's.
    @post("/drafts/{draft_id:uuid}/identity-check", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def identity_check(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        party = data.get("party", "owner")
        try:  # refused before anything is written (the refusal is on the audit log)
            identity.record(
                session, actor, draft_id,
                party=party, document_kind=data.get("document_kind", ""), number=data.get("number", ""),
            )  # fmt: skip
        except ValidationFailed as exc:
            draft = drafts.get_own(session, actor, draft_id)
            return _form_page(
                session, actor, draft, drafts.values_of(draft), {}, exc.message, 422,
                identity_errors=exc.field_errors, identity_party=party,
            )  # fmt: skip
        return Redirect(f"/drafts/{draft_id}#identity-{party}", status_code=303)

    # One of the citizen's documents digitised for an earlier dossier, reused by its content hash.
    @post(
        "/drafts/{draft_id:uuid}/documents/{slot:str}/reuse/{document_id:uuid}",
        sync_to_thread=True,
        guards=[signed_in],
        opt=partner_work(),
    )
    def reuse_document(
        self,
        actor: Actor,
        session: Session,
        draft_id: FromPath[uuid.UUID],
        slot: FromPath[str],
        document_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        try:
            with attempt(session):
                documents.reuse(session, actor, draft_id, slot, document_id)
        except (ValidationFailed, returning.ConsentRequired) as exc:
            draft = drafts.get_own(session, actor, draft_id)
            return _form_page(
                session, actor, draft, drafts.values_of(draft), {}, exc.message, 422,
                document_errors={slot: exc.message},
            )  # fmt: skip
        return Redirect(f"/drafts/{draft_id}#slot-{slot}", status_code=303)

    # The page's autosave (templates/static/draft.js): the whole form as it stands.
    @post("/drafts/{draft_id:uuid}/save", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def save_draft(self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: Form) -> dict[str, Any]:
        return _saved(drafts.save(session, actor, draft_id, data))

    # The page is open and visible: the counter timer goes on.
    @post("/drafts/{draft_id:uuid}/heartbeat", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def draft_heartbeat(self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        return _saved(drafts.heartbeat(session, actor, draft_id))

    @post("/drafts/{draft_id:uuid}/submit", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def submit_draft(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        draft = drafts.get_own(session, actor, draft_id)
        return _submit(session, actor, drafts.procedure_of(session, draft), draft, data)

    # A document's files (one or many pages), each checked, scanned and stored on its own.
    @post("/drafts/{draft_id:uuid}/documents/{slot:str}", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def upload_document(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], slot: FromPath[str], data: Upload
    ) -> Template | Redirect:
        uploads = data.get("file")
        files = [f for f in (uploads if isinstance(uploads, list) else [uploads]) if isinstance(f, UploadFile)]
        try:
            if not files:
                raise ValidationFailed("Chưa chọn tệp nào")
            for upload in files:
                documents.upload(session, actor, draft_id, slot, upload.file.read(), upload.filename or "")
        except (DocumentRefused, documents.ScanningUnavailable, ValidationFailed) as exc:
            draft = drafts.get_own(session, actor, draft_id)
            status = 503 if isinstance(exc, documents.ScanningUnavailable) else 422
            return _form_page(
                session, actor, draft, drafts.values_of(draft), {}, exc.message, status,
                document_errors={slot: exc.message},
            )  # fmt: skip
        return Redirect(f"/drafts/{draft_id}#documents", status_code=303)

    @post(
        "/drafts/{draft_id:uuid}/documents/{slot:str}/{document_id:uuid}/remove",
        sync_to_thread=True,
        guards=[signed_in],
        opt=partner_work(),
    )
    def remove_document(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], document_id: FromPath[uuid.UUID]
    ) -> Redirect:
        documents.remove(session, actor, draft_id, document_id)
        return Redirect(f"/drafts/{draft_id}#documents", status_code=303)

    @post("/drafts/{draft_id:uuid}/discard", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def discard_draft(self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID]) -> Redirect:
        drafts.discard(session, actor, draft_id)
        return Redirect("/dossiers/new", status_code=303)

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
        return page("dossiers/receipt.html", actor=actor, **_receipt_context(session, dossier))

    @get(
        "/dossiers/{dossier_id:uuid}/receipt.pdf",
        sync_to_thread=True,
        guards=[requires(Permission.see_dossiers)],
        opt=partner_work(writes=True),  # the view of the citizen's data is audited
    )
    def receipt_pdf(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        dossier = queries.view_personal_data(session, actor, dossier_id)
        html = render_text(request.app.template_engine, "print/receipt.html", **_receipt_context(session, dossier))
        return Response(
            render_pdf(html, stylesheets=(RECEIPT_CSS.read_text(encoding="utf-8"),)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="bien-nhan-{dossier.tracking_code}.pdf"'},
        )

    @get(
        "/dossiers/{dossier_id:uuid}",
        sync_to_thread=True,
        guards=[requires(Permission.see_dossiers)],
        opt=partner_work(writes=True),  # the view of the citizen's data is audited
    )
    def dossier_detail(self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]) -> Template:
        return _detail_page(session, actor, dossier_id)

    # The city asked for more documents (status 5): the staff member brings only those, once.
    @post("/dossiers/{dossier_id:uuid}/supplement", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def supplement(
        self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID], data: Upload
    ) -> Template | Redirect:
        try:
            supplements.submit(session, actor, dossier_id, text_field(data, "note"), supplied_files(data))
        except (Conflict, ValidationFailed, documents.ScanningUnavailable) as exc:
            return _refused_action(session, actor, dossier_id, exc, "supplement")
        return Redirect(f"/dossiers/{dossier_id}#supplement", status_code=303)

    # The citizen withdraws the dossier, their signed request attached.
    @post("/dossiers/{dossier_id:uuid}/withdraw", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def withdraw(
        self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID], data: Upload
    ) -> Template | Redirect:
        content, name = withdrawal_request(data)
        try:
            withdrawals.submit(session, actor, dossier_id, text_field(data, "reason"), content, name)
        except (Conflict, ValidationFailed, documents.ScanningUnavailable) as exc:
            return _refused_action(session, actor, dossier_id, exc, "withdraw")
        return Redirect(f"/dossiers/{dossier_id}#withdraw", status_code=303)

    # The city's request for more documents was the point's own miss: counted against the point.
    @post("/dossiers/{dossier_id:uuid}/supplement-cause", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def mark_supplement_cause(self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]) -> Redirect:
        supplements.mark_agent_caused(session, actor, dossier_id)
        return Redirect(f"/dossiers/{dossier_id}#supplement", status_code=303)

    @get(
        "/dossiers/follow-ups",
        sync_to_thread=True,
        guards=[requires(Permission.see_dossiers)],
        opt=partner_work(writes=True),  # lists owners' names: the view is on the record
    )
    def follow_ups_page(self, actor: Actor, session: Session) -> Template:
        open_ = follow_ups.for_actor(session, actor)
        done = follow_ups.for_actor(session, actor, done=True, limit=20)
        waiting = supplements.waiting_at_points(session, actor)
        queries.record_list_view(session, [row.dossier for row in open_ + done] + waiting)
        return page("dossiers/follow_ups.html", actor=actor, open=open_, done=done, waiting=waiting)

    @post("/follow-ups/{task_id:uuid}/done", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def follow_up_done(self, actor: Actor, session: Session, task_id: FromPath[uuid.UUID], data: Form) -> Redirect:
        task = follow_ups.mark_done(session, actor, task_id)
        back = data.get("back") or ""
        return Redirect(
            f"/dossiers/{task.dossier_id}" if back == "dossier" else "/dossiers/follow-ups", status_code=303
        )


def _detail_page(
    session: Session, actor: Actor, dossier_id: uuid.UUID, *, status_code: int = 200, **extra: Any
) -> Template:
    dossier = queries.view_personal_data(session, actor, dossier_id)
    return page(
        "dossiers/detail.html",
        status_code=status_code,
        actor=actor,
        **_detail_context(session, dossier),
        **_after_counter(session, actor, dossier),
        **extra,
    )


def _refused_action(session: Session, actor: Actor, dossier_id: uuid.UUID, exc: DomainError, form: str) -> Template:
    """The page again with why the supplement or withdrawal was refused (nothing of it was kept)."""
    session.rollback()
    return _detail_page(
        session,
        actor,
        dossier_id,
        status_code=exc.status_code,
        action_error={"form": form, "message": exc.message, "fields": getattr(exc, "field_errors", {}) or {}},
    )
