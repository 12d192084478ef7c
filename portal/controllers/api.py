"""The JSON API (OpenAPI at /schema): catalogue, filing, tracking, the city's callbacks.

Filing and reading dossiers accept either a signed-in session (with its CSRF
token, as the pages do) or a partner system's bearer token from
`POST /api/oauth/token` (see portal/auth/api_tokens.py and docs/partner-api.md).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, Parameter, RawBody

from agents.api_clients.schemas import OAuthErrorOut, TokenOut, TokenRequest
from agents.city.callbacks import verify_signature
from agents.city.wire import MalformedReport, parse_status_report
from agents.documents.service import ScanningUnavailable
from agents.dossiers import city_status, filing, queries, supplements, withdrawals
from agents.dossiers.schemas import DossierIn, DossierOut, DossierSummaryOut, TrackIn
from agents.notifications import outbox
from agents.notifications.sms import verify_delivery_report
from agents.procedures import service as procedures
from agents.procedures.schemas import ProcedureOut
from portal.auth.api_tokens import BearerOrCSRFMiddleware, token_response
from portal.auth.guards import api_caller
from portal.auth.security_events import record_security_event
from portal.core.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.settings import get_settings
from portal.deps import Actor, Session, api_work, public_work
from portal.observability import COUNTS_CITY_CALLBACK_REFUSALS
from portal.openapi import CITY_SIGNATURE, raises
from portal.security import rate_limits
from portal.security.rate_limits import RateLimited

TokenForm = Annotated[TokenRequest, Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def uploaded_files(data: dict[str, Any], *, skip: tuple[str, ...] = ()) -> list[tuple[str, UploadFile]]:
    """The files of a multipart body, each under its part's name (a name given several times: several files).

    A file input left empty (no name, no bytes) is no file."""
    out = []
    for name, value in data.items():
        if name in skip:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, UploadFile) and (item.filename or item.file.tell() or item.file.read(1)):
                item.file.seek(0)
                out.append((name, item))
    return out


def supplied_files(data: dict[str, Any]) -> list[supplements.SuppliedFile]:
    return [
        supplements.SuppliedFile(name, upload.file.read(), upload.filename or "")
        for name, upload in uploaded_files(data, skip=("note", "_csrf_token"))
    ]


def withdrawal_request(data: dict[str, Any]) -> tuple[bytes | None, str]:
    """The citizen's signed request (the `request` part), its bytes and name."""
    files = [upload for name, upload in uploaded_files(data) if name == "request"]
    if not files:
        return None, ""
    return files[0].file.read(), files[0].filename or ""


def text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


NO_STORE_HEADERS = [ResponseHeader(name="Cache-Control", value="no-store", documentation_only=True)]


def _oauth_error(description: str) -> ResponseSpec:
    return ResponseSpec(OAuthErrorOut, description=description, generate_examples=False)


class ApiController(Controller):
    path = "/"

    @get("/api/v1/procedures", sync_to_thread=True, opt=public_work("public procedure catalogue", "api"))
    def list_procedures(self, session: Session) -> list[ProcedureOut]:
        return [ProcedureOut.of(p) for p in procedures.list_published(session)]

    @post(
        "/api/oauth/token",
        sync_to_thread=True,
        status_code=200,
        exclude_from_csrf=True,
        response_headers=NO_STORE_HEADERS,
        # RFC 6749 §5.2's error shape, refusals at the edge included (portal/security/input_guard.py).
        responses={
            400: _oauth_error("invalid_request, invalid_scope or unsupported_grant_type"),
            401: _oauth_error("invalid_client (with `WWW-Authenticate: Basic` when Basic was used)"),
            413: _oauth_error("invalid_request: the body is larger than the portal accepts"),
            429: _oauth_error("rate_limited, with `Retry-After`"),
        },
    )
    def oauth_token(self, request: Request[Any, Any, Any], data: TokenForm) -> Response[TokenOut]:
        """OAuth2 client credentials (RFC 6749 §4.4) for partner systems; not a browser form, so no CSRF."""
        return token_response(request, dict(data))

    # Bearer or session: CSRF applies to session callers only (see portal/auth/api_tokens.py).
    @post(
        "/api/v1/dossiers",
        sync_to_thread=True,
        status_code=201,
        exclude_from_csrf=True,
        middleware=[BearerOrCSRFMiddleware],
        guards=[api_caller],
        opt=api_work("dossiers:write"),
        # The point or procedure is unknown (404), not the caller's (403); the form is refused (422);
        # the idempotency key was used for someone else's dossier (409).
        raises=raises(NotFound, PermissionDenied, ValidationFailed, Conflict),
    )
    def file_dossier(self, actor: Actor, session: Session, data: JSONBody[DossierIn]) -> DossierOut:
        """File a dossier. Repeating the same idempotency_key returns the same dossier."""
        filed = filing.file_dossier(
            session,
            actor,
            filing.FilingRequest(
                data.procedure_code,
                data.agent_point_id,
                data.idempotency_key,
                data.citizen,
                data.form,
                notify_sms=data.notify.sms if data.notify else False,
                notify_email=data.notify.email if data.notify else None,
            ),
        )
        return DossierOut.of(filed.dossier)

    @get("/api/v1/dossiers", sync_to_thread=True, guards=[api_caller], opt=api_work("dossiers:read"))
    def list_dossiers(
        self, actor: Actor, session: Session, limit: Annotated[int, Parameter(ge=1, le=100)] = 50
    ) -> list[DossierSummaryOut]:
        """The newest dossiers the caller may see (a partner system: those of its agent point)."""
        return [DossierSummaryOut.of(d) for d in queries.list_for_actor(session, actor, limit=limit)]

    @get("/api/v1/dossiers/{dossier_id:uuid}", sync_to_thread=True, guards=[api_caller], opt=api_work("dossiers:read"))
    def get_dossier(self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]) -> DossierOut:
        dossier = queries.get_for_actor(session, actor, dossier_id)
        return DossierOut.of(dossier, queries.notifications_of(session, dossier.id))

    @post(
        "/api/v1/dossiers/{dossier_id:uuid}/supplement",
        sync_to_thread=True,
        status_code=200,
        exclude_from_csrf=True,
        middleware=[BearerOrCSRFMiddleware],
        guards=[api_caller],
        opt=api_work("dossiers:write"),
        # Not the caller's dossier, or none (404); not at the caller's point (403); not waiting for a
        # supplement, or answered already (409); a bad note, slot or file (422); the virus scanner down (503).
        raises=raises(NotFound, PermissionDenied, Conflict, ValidationFailed, ScanningUnavailable),
    )
    def supplement(
        self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID], data: Multipart
    ) -> DossierOut:
        """Send a dossier the city asked more documents of (status 5) back to it, once.

        Multipart: `note` (optional, to the city) and the files, each part named by the code of the
        document slot it adds or replaces (the slot's files so far are kept, marked replaced).
        """
        supplements.submit(session, actor, dossier_id, text_field(data, "note"), supplied_files(data))
        dossier = queries.get_for_actor(session, actor, dossier_id)
        return DossierOut.of(dossier, queries.notifications_of(session, dossier.id))

    @post(
        "/api/v1/dossiers/{dossier_id:uuid}/withdraw",
        sync_to_thread=True,
        status_code=200,
        exclude_from_csrf=True,
        middleware=[BearerOrCSRFMiddleware],
        guards=[api_caller],
        opt=api_work("dossiers:write"),
        # Not the caller's dossier (404) or point (403); finished, not at the city yet, or withdrawn
        # already (409); no reason or no request file, or the file refused (422); the scanner down (503).
        raises=raises(NotFound, PermissionDenied, Conflict, ValidationFailed, ScanningUnavailable),
    )
    def withdraw(self, actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID], data: Multipart) -> DossierOut:
        """Withdraw a dossier at the citizen's request (city status 7), once.

        Multipart: `reason`, and `request`: the citizen's signed request (PDF, JPEG or PNG).
        """
        content, name = withdrawal_request(data)
        withdrawals.submit(session, actor, dossier_id, text_field(data, "reason"), content, name)
        dossier = queries.get_for_actor(session, actor, dossier_id)
        return DossierOut.of(dossier, queries.notifications_of(session, dossier.id))

    @post(
        "/api/v1/track",
        sync_to_thread=True,
        status_code=200,
        opt=public_work("public dossier tracking by code and phone", "citizen (api)", writes=False),
        raises=raises(NotFound, RateLimited),  # no dossier with that code and phone; too many tries
    )
    def track(self, request: Request[Any, Any, Any], session: Session, data: JSONBody[TrackIn]) -> DossierOut:
        """Public: a dossier's status by tracking code plus the owner's phone number."""
        rate_limits.check(request, "track", data.tracking_code.strip().upper())
        return DossierOut.of(queries.track(session, data.tracking_code, data.phone))

    @post(
        "/api/city/callbacks",
        sync_to_thread=True,
        status_code=200,
        exclude_from_csrf=True,
        security=[{CITY_SIGNATURE: []}],
        raises=raises(AuthenticationFailed),  # a missing, stale or wrong signature
        opt={
            **public_work("status callback from the city system", "city system"),
            COUNTS_CITY_CALLBACK_REFUSALS: True,  # refusals by reason in /metrics
        },
    )
    def city_callback(self, request: Request[Any, Any, Any], session: Session, body: RawBody) -> dict[str, str]:
        """Status change pushed by the city system; signed with the shared webhook secret."""
        try:
            verify_signature(
                get_settings().city.webhook_secret,
                request.headers.get("x-city-timestamp"),
                request.headers.get("x-city-signature"),
                body,
            )
        except AuthenticationFailed as exc:  # forged, or replayed after the freshness window: on the record
            source = request.client.host if request.client else ""
            record_security_event(
                "city.callback_refused",
                source,
                {"reason": str(exc.message), "event_id": request.headers.get("x-city-event-id", "")[:80]},
                repeat_key=f"{source}:{exc.message}",
            )
            raise
        try:
            report = parse_status_report(body)
        except MalformedReport as exc:
            raise HTTPException(status_code=400, detail=f"malformed callback: {exc}") from exc
        try:
            outcome = city_status.apply_city_update(session, report)
        except ValidationFailed as exc:
            raise HTTPException(status_code=400, detail=exc.message) from exc
        return {"result": outcome.value}

    @post(
        outbox.SMS_REPORTS_PATH,
        sync_to_thread=True,
        status_code=200,
        exclude_from_csrf=True,
        raises=raises(AuthenticationFailed),  # a missing, stale or wrong signature
        opt=public_work("delivery report from the SMS gateway", "SMS gateway"),
    )
    def sms_delivery_report(self, request: Request[Any, Any, Any], session: Session, body: RawBody) -> dict[str, str]:
        """The SMS gateway's delivery report for one message; signed with the shared webhook secret."""
        report = verify_delivery_report(
            get_settings().sms.webhook_secret,
            request.headers.get("x-sms-timestamp"),
            request.headers.get("x-sms-signature"),
            body,
        )
        return {"result": outbox.apply_delivery_report(session, report)}
