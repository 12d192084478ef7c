"""Domain errors to HTTP, once: JSON under /api, an error page elsewhere.

Messages are said in the request's language (`portal.i18n`); error codes never change.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from portal.auth.security_events import record_security_event
from portal.core.errors import AuthenticationFailed, DomainError
from portal.core.i18n import N_, Message
from portal.i18n import request_language, translate, translate_errors
from portal.security.input_guard import OAUTH_TOKEN_PATH
from portal.security.rate_limits import RateLimited

log = logging.getLogger(__name__)


def answers_json(path: str) -> bool:
    """Errors under /api (and of /healthz) are JSON; elsewhere they are pages (portal/openapi.py says so too)."""
    return path.startswith("/api/") or path == "/healthz"


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return answers_json(request.url.path)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _wants_json(request):
        language = request_language(request)
        body: dict[str, Any] = {"error": exc.code, "message": translate(exc.message, language)}
        if exc.field_errors:
            body["field_errors"] = translate_errors(exc.field_errors, language)
        body.update({k: v for k, v in exc.answer_extra().items() if k not in body})
        headers = {}
        if isinstance(exc, AuthenticationFailed) and request.headers.get("authorization", "").lower().startswith(
            "bearer"
        ):
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'  # RFC 6750 §3
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return Response(body, status_code=exc.status_code, media_type=MediaType.JSON, headers=headers)
    if isinstance(exc, AuthenticationFailed):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='/')}")
    return Template(
        template_name="errors/error.html",
        context={"status": exc.status_code, "message": exc.message},
        status_code=exc.status_code,
        headers={"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    csrf_refused = exc.status_code == 403 and "csrf" in str(exc.detail).lower()
    if csrf_refused:
        record_security_event(
            "security.csrf_rejected",
            request.client.host if request.client else "",
            {"path": request.url.path, "method": request.method},
        )
    # Litestar's own headers stay (a 405 says which methods the path has, in `Allow`).
    headers = dict(exc.headers or {})
    if _wants_json(request):
        said = translate(exc.detail, request_language(request))
        if request.url.path == OAUTH_TOKEN_PATH and exc.status_code == 400:  # RFC 6749 §5.2's shape
            return Response(
                {"error": "invalid_request", "error_description": said},
                status_code=400,
                media_type=MediaType.JSON,
                headers={**headers, "Cache-Control": "no-store"},
            )
        return Response(
            {"error": "http_error", "message": said, **({"extra": exc.extra} if exc.extra else {})},
            status_code=exc.status_code,
            media_type=MediaType.JSON,
            headers=headers,
        )
    # A page shows our own messages; Litestar's (English, technical) stay out of it: the
    # page's title says what happened in the reader's language.
    message: str | None = exc.detail if isinstance(exc.detail, Message) else None
    if csrf_refused:
        message = N_("Biểu mẫu đã hết hạn; vui lòng tải lại trang rồi gửi lại")
    return Template(
        template_name="errors/error.html",
        context={"status": exc.status_code, "message": message},
        status_code=exc.status_code,
        headers=headers,
    )


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = N_("Có lỗi xảy ra; vui lòng thử lại sau")
    if _wants_json(request):
        return Response(
            {"error": "internal_error", "message": translate(message, request_language(request))}, status_code=500
        )
    return Template(
        template_name="errors/error.html",
        context={"status": 500, "message": message},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
