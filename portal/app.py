"""The Litestar application: routes, templates, the session cookie, CSRF, error mapping."""

from __future__ import annotations

import hashlib

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from portal.admin.site import BACK_OFFICE_MOUNT, start_back_office, stop_back_office, the_back_office
from portal.api_reference import ApiReferencePlugin
from portal.auth.security_events import SSO_FLOW_COOKIE, SSO_FLOW_SECONDS, AuditedCookieBackendConfig
from portal.auth.session import session_cookie_writer
from portal.core.logging import configure_logging
from portal.core.migrations import check_admin_role, check_app_role
from portal.core.settings import get_settings
from portal.deps import DEPENDENCIES
from portal.exceptions import EXCEPTION_HANDLERS
from portal.i18n import load_catalogues
from portal.observability import count_refused_callbacks, observe_requests
from portal.openapi import allow_every_method, describe_answers
from portal.routes import ROUTES
from portal.security.headers import security_headers
from portal.security.hosts import HostGuardMiddleware
from portal.security.input_guard import InputGuardMiddleware, InputLimits
from portal.templating import TEMPLATE_DIR, StaticFiles, template_config


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging(settings, service="web")
    if settings.is_production:
        check_app_role(settings)
        check_admin_role(settings)
    load_catalogues()  # a broken .po stops the start, not a page later
    the_back_office()  # the back office's tables are generated now: a column it cannot map stops the start
    secure_cookies = settings.is_production
    # Litestar's encrypted cookie carries only a pending single sign-on (state, nonce, verifier) for a
    # few minutes; who is signed in is the server-side session (portal/auth/session.py).
    sso_flow_config = AuditedCookieBackendConfig(
        secret=hashlib.sha256(("session:" + settings.keys.secret_key).encode()).digest(),
        key=SSO_FLOW_COOKIE,
        max_age=SSO_FLOW_SECONDS,
        httponly=True,
        secure=secure_cookies,
        samesite="lax",
    )
    csrf_config = CSRFConfig(
        secret=hashlib.sha256(("csrf:" + settings.keys.secret_key).encode()).hexdigest(),
        cookie_secure=secure_cookies,
        cookie_samesite="lax",
        exclude=["/api/city/callbacks"],
    )
    app = Litestar(
        route_handlers=[
            *ROUTES,
            BACK_OFFICE_MOUNT,
            create_static_files_router(
                path="/static", directories=[TEMPLATE_DIR / "static"], file_system=StaticFiles()
            ),
        ],
        template_config=template_config,
        # The host guard, then the input guard (outermost): nothing reads a request before it is checked.
        middleware=[
            DefineMiddleware(HostGuardMiddleware, public_url=settings.web.public_url, enforce=settings.is_production),
            DefineMiddleware(InputGuardMiddleware, limits=InputLimits.from_settings(settings.web)),
            sso_flow_config.middleware,
        ],
        before_send=[
            security_headers(production=settings.is_production),
            session_cookie_writer(production=settings.is_production),
            allow_every_method(),
        ],
        csrf_config=csrf_config,
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(
            title="Agent Network Portal API", version="0.1.0", render_plugins=[ApiReferencePlugin()]
        ),
        logging_config=None,  # configured once, above, like every other process
        after_exception=[count_refused_callbacks],
        on_startup=[start_back_office],
        on_shutdown=[stop_back_office],
    )
    describe_answers(app)  # built once, here: every operation's real answers (portal/openapi.py)
    return observe_requests(app)
