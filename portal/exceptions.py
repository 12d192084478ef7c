"""Domain errors to HTTP, once: JSON under /api, an error page elsewhere."""

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

log = logging.getLogger(__name__)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _wants_json(request):
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field_errors:
            body["field_errors"] = exc.field_errors
        headers = {}
        if isinstance(exc, AuthenticationFailed) and request.headers.get("authorization", "").lower().startswith(
            "bearer"
        ):
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'  # RFC 6750 §3
        return Response(body, status_code=exc.status_code, media_type=MediaType.JSON, headers=headers)
    if isinstance(exc, AuthenticationFailed):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='/')}")
    return Template(
        template_name="errors/error.html",
        context={"status": exc.status_code, "message": exc.message},
        status_code=exc.status_code,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 403 and "csrf" in str(exc.detail).lower():
        record_security_event(
            "security.csrf_rejected",
            request.client.host if request.client else "",
            {"path": request.url.path, "method": request.method},
        )
    if _wants_json(request):
        return Response(
            {"error": "http_error", "message": exc.detail, **({"extra": exc.extra} if exc.extra else {})},
            status_code=exc.status_code,
            media_type=MediaType.JSON,
        )
    return Template(
        template_name="errors/error.html",
        context={"status": exc.status_code, "message": exc.detail},
        status_code=exc.status_code,
    )


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return Response({"error": "internal_error", "message": "internal error"}, status_code=500)
    return Template(
        template_name="errors/error.html",
        context={"status": 500, "message": "Có lỗi xảy ra"},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
