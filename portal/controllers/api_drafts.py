"""The counter's drafts through the JSON API (issue #9, "The same through the API"; docs/partner-api.md).

A partner system does what the counter page does, through the same services: a draft
(agents/dossiers/drafts), its documents (agents/documents/service: type by content, ClamAV,
sealed by content hash), the identity checks (agents/dossiers/identity), the
completeness check and the one filing (drafts.submit_saved → filing.file_dossier), the receipt.
Every refused step is on the audit log (drafts.on_the_record). Scopes: `dossiers:write` for
the draft and its filing (the draft is the filing in progress), `dossiers:read` for the receipt
of a filed dossier, like every other read of a dossier (decision 0032).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, JSONBody

from agents.documents import service as documents
from agents.documents.rules import DocumentRefused, UploadRefused
from agents.dossiers import drafts, identity, queries
from agents.dossiers.models import DraftState
from agents.dossiers.schemas import (
    DossierOut,
    DraftChangeIn,
    DraftIn,
    DraftOut,
    DraftSlotOut,
    IdentityCheckIn,
    IdentityCheckOut,
    StoredDocumentOut,
    api_name,
    api_names,
    draft_changes,
)
from portal.auth.api_tokens import BearerOrCSRFMiddleware
from portal.auth.guards import api_caller
from portal.controllers.dossiers import RECEIPT_CSS, _receipt_context
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.printing import render_pdf
from portal.deps import Actor, Session, api_work
from portal.openapi import raises
from portal.templating import render_text


@dataclass
class DocumentFile:
    """The body of PUT …/documents/{slot}: one file in the multipart field `file` (none: 400)."""

    file: UploadFile


DocumentPart = Annotated[DocumentFile, Body(media_type=RequestEncodingType.MULTI_PART)]
WRITE = "dossiers:write"
UNSAFE: dict[str, Any] = {
    "sync_to_thread": True,
    "exclude_from_csrf": True,  # bearer callers need none; session callers are checked by the middleware
    "middleware": [BearerOrCSRFMiddleware],
    "guards": [api_caller],
}


@contextmanager
def _in_api_terms() -> Iterator[None]:
    """Field errors and `missing` named as the API names them (owner.phone, not the page's owner_phone)."""
    try:
        yield
    except ValidationFailed as exc:
        exc.field_errors = api_names(exc.field_errors)
        if isinstance(exc, drafts.Incomplete):
            exc.missing = [api_name(name) for name in exc.missing]
        raise


def _draft_out(session: Session, actor: Actor, draft_id: uuid.UUID) -> DraftOut:
    draft = drafts.get_own(session, actor, draft_id)
    procedure = drafts.procedure_of(session, draft)
    values = drafts.values_of(draft)
    stale = drafts.stale_identity_checks(session, draft, values)
    is_open = draft.state is DraftState.open
    return DraftOut.of(
        draft,
        values,
        procedure_code=procedure.code,
        version=procedure.current.number if procedure.current is not None else 0,
        slots=[
            DraftSlotOut(
                view.slot.code, view.slot.name, view.slot.mandatory, [StoredDocumentOut.of(f) for f in view.files]
            )
            for view in documents.slots_of(session, actor, draft.id)
        ],
        checks=[
            IdentityCheckOut.of(check, f"identity.{party}" not in stale)
            for party, check in sorted(identity.checks_of(session, draft.id).items())
        ],
        missing=drafts.missing(session, draft, procedure) if is_open else [],
    )


class DraftApiController(Controller):
    path = "/"

    @post(
        "/api/v1/drafts",
        status_code=201,
        opt=api_work(WRITE),
        # An unknown procedure or point (404), a point not the caller's (403), a field the draft cannot hold (422).
        raises=raises(NotFound, PermissionDenied, ValidationFailed),
        **UNSAFE,
    )
    def start_draft(self, actor: Actor, session: Session, data: JSONBody[DraftIn]) -> DraftOut:
        """Start a draft of `procedure_code` at the caller's point, with whatever is known already.

        The server gives it its idempotency key: submitting it files one dossier, however often."""
        with _in_api_terms(), drafts.on_the_record(session, None, "start"):
            changes, refused = draft_changes(data)
            draft = drafts.start(session, actor, data.procedure_code, at_point=True, agent_point_id=data.agent_point_id)
            if changes or refused:
                drafts.change(session, actor, draft.id, changes, refused)
        return _draft_out(session, actor, draft.id)

    @get(
        "/api/v1/drafts/{draft_id:uuid}",
        sync_to_thread=True,
        guards=[api_caller],
        opt=api_work(WRITE),
        raises=raises(NotFound),
    )
    def get_draft(self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID]) -> DraftOut:
        """The draft as it stands, with `missing`: what submit still needs."""
        with drafts.on_the_record(session, draft_id, "read"):
            return _draft_out(session, actor, draft_id)

    @patch(
        "/api/v1/drafts/{draft_id:uuid}",
        status_code=200,
        opt=api_work(WRITE),
        # Filed or discarded already (409); a field the draft cannot hold, or a value too long (422).
        raises=raises(NotFound, Conflict, ValidationFailed),
        **UNSAFE,
    )
    def change_draft(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: JSONBody[DraftChangeIn]
    ) -> DraftOut:
        """Save changes: a value replaces, null removes, what is left out stays."""
        with _in_api_terms(), drafts.on_the_record(session, draft_id, "change"):
            drafts.change(session, actor, draft_id, *draft_changes(data))
        return _draft_out(session, actor, draft_id)

    @put(
        "/api/v1/drafts/{draft_id:uuid}/documents/{slot:str}",
        status_code=201,
        opt=api_work(WRITE),
        # Filed already (409); refused (422: infected, unsupported_type, too_large, unknown_slot, or no
        # single `file`); the virus scanner unreachable (503): nothing is stored.
        raises=raises(NotFound, Conflict, ValidationFailed, documents.ScanningUnavailable),
        **UNSAFE,
    )
    def put_document(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], slot: FromPath[str], data: DocumentPart
    ) -> StoredDocumentOut:
        """The document of `slot` (one of the procedure version's required documents) is this file now.

        Multipart, field `file`: one PDF (any number of pages), JPEG or PNG, judged by its content;
        scanned by ClamAV before anything is stored; stored sealed by its SHA-256."""
        with drafts.on_the_record(session, draft_id, "document"):
            try:
                stored = documents.replace(
                    session, actor, draft_id, slot, data.file.file.read(), data.file.filename or ""
                )
            except DocumentRefused as exc:
                raise UploadRefused(exc) from exc
        return StoredDocumentOut.of(stored)

    @put(
        "/api/v1/drafts/{draft_id:uuid}/identity-check",
        status_code=200,
        opt=api_work(WRITE),
        # Filed already (409); an unknown document or party, a number that is not the party's (422).
        raises=raises(NotFound, Conflict, ValidationFailed),
        **UNSAFE,
    )
    def put_identity_check(
        self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID], data: JSONBody[IdentityCheckIn]
    ) -> IdentityCheckOut:
        """Record the identity check of the owner (or of the proxy, `party`): which document was seen
        and its number, matched against that party's in the draft; who checked and when are the
        caller and now. A new check of a party replaces its earlier one."""
        with _in_api_terms(), drafts.on_the_record(session, draft_id, "identity_check"):
            check = identity.record(
                session, actor, draft_id, party=data.party, document_kind=data.document_kind, number=data.number
            )
        return IdentityCheckOut.of(check, matched=True)

    @post(
        "/api/v1/drafts/{draft_id:uuid}/submit",
        status_code=201,
        opt=api_work(WRITE),
        # Something mandatory missing (422 `incomplete` with `missing`) or invalid (422 `validation_failed`);
        # discarded (409); the point closed or not approved (403).
        raises=raises(NotFound, PermissionDenied, Conflict, ValidationFailed),
        **UNSAFE,
    )
    def submit_draft(self, actor: Actor, session: Session, draft_id: FromPath[uuid.UUID]) -> DossierOut:
        """File the draft: the dossier, once. Submitting again answers with the same dossier."""
        with _in_api_terms(), drafts.on_the_record(session, draft_id, "submit"):
            filed = drafts.submit_saved(session, actor, draft_id)
        return DossierOut.of(filed.dossier, queries.notifications_of(session, filed.dossier.id))

    @get(
        "/api/v1/dossiers/{dossier_id:uuid}/receipt.pdf",
        sync_to_thread=True,
        guards=[api_caller],
        opt=api_work("dossiers:read", writes=True),  # the view of the citizen's data is audited
        raises=raises(NotFound),
        media_type="application/pdf",
        responses={200: ResponseSpec(bytes, description="The receipt (A5, Vietnamese)", media_type="application/pdf")},
    )
    def receipt_pdf(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        """The dossier's receipt as the counter prints it."""
        dossier = queries.view_personal_data(session, actor, dossier_id)
        html = render_text(request.app.template_engine, "print/receipt.html", **_receipt_context(session, dossier))
        return Response(
            render_pdf(html, stylesheets=(RECEIPT_CSS.read_text(encoding="utf-8"),)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="bien-nhan-{dossier.tracking_code}.pdf"'},
        )
