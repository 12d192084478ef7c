"""The OpenAPI description at /schema/openapi.json tells the truth: every answer each operation can give.

Litestar describes what a handler returns when all goes well, plus a 400 in its
own default error shape. The portal answers errors in its own shape
(`portal.exceptions`: `{"error", "message", "field_errors"?}` under /api, an
error page elsewhere), redirects pages to /login, refuses hostile input at the
edge (`portal.security.input_guard`) and checks CSRF. `describe_answers` runs
once when the app is built and rewrites each operation's responses from what the
route itself declares, so a new route is described by the same rules:

- every operation: 400 (input refused at the edge, or parameters that do not
  parse); with a body, 413 too;
- `opt=api_work(scope)` (the `api_caller` guard): 401 and 403, and the
  operation's security (a partner system's OAuth2 token with that scope, or a
  signed-in session); pages that need a signed-in person: a 302 to /login and 403;
- path parameters: 404 (no such object, or one outside the caller's reach);
- unsafe methods under the CSRF check: 403;
- the domain errors the route's services raise, named with Litestar's
  `raises=[...]` (classes of `portal.core.errors`, each with its status code);
- `responses={status: ResponseSpec(...)}` on a handler wins over all of the
  above (the OAuth token endpoint answers in RFC 6749's own error shape).

JSON operations (paths under /api and /healthz) are described exactly; pages
say "text/html" for their success and, under `default`, for their error pages.
Undeclared methods answer 405 with `Allow` (`portal.exceptions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OAuthFlow,
    OAuthFlows,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.response import Redirect
from litestar.routes import HTTPRoute

from portal.core.errors import DomainError
from portal.deps import Work
from portal.exceptions import answers_json

if TYPE_CHECKING:
    from litestar.types import Message, Scope

ERROR_SCHEMA = "Error"
JSON = "application/json"
HTML = "text/html"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Security schemes, by name (components.securitySchemes).
PARTNER_SYSTEM = "partnerSystem"
SESSION = "session"
CITY_SIGNATURE = "citySignature"

TOKEN_SCOPES = {
    "procedures:read": "Read the procedure catalogue (reserved; the catalogue is public today)",
    "dossiers:write": "File dossiers at the client's agent point (at once, or through a draft)",
    "dossiers:read": "Read the dossiers of the client's agent point, and their receipts",
}

STATUS_TEXT = {
    302: "Not signed in: a redirect to /login?next=<this page>",
    400: "Input refused: control characters, invalid UTF-8 or lone surrogates in any text, JSON nested "
    "too deep (`invalid_input`), or parameters and body that do not match this description",
    401: "No credentials, or a token that is unknown, expired or revoked (`unauthenticated`)",
    403: "Not allowed: the token lacks the operation's scope, the caller's role does not permit it, "
    "or (for a signed-in session) the CSRF token is missing or wrong (`forbidden`)",
    404: "No such object, or one outside the caller's reach: the same answer (`not_found`)",
    409: "The request conflicts with what is stored (`conflict`)",
    413: "The body is larger than the portal accepts (`request_too_large`)",
    422: "The input was refused; `field_errors` names each field (`validation_failed`)",
    429: "Too many requests; `Retry-After` says when to try again",
    503: "An outside system the operation needs did not answer (`external_service_error`)",
}


def raises(*errors: type[DomainError]) -> list[type[HTTPException]]:
    """For a handler's `raises=`: the domain errors its services raise (each answers its `status_code`)."""
    return cast("list[type[HTTPException]]", list(errors))


def error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["error", "message"],
        properties={
            "error": Schema(type=OpenAPIType.STRING, description="A stable code: rely on it in software"),
            "message": Schema(type=OpenAPIType.STRING, description="For people, in the request's language"),
            "field_errors": Schema(
                type=OpenAPIType.OBJECT,
                additional_properties=Schema(type=OpenAPIType.STRING),
                description="Field (or place in the request) → what is wrong with it",
            ),
            "extra": Schema(description="Details of a parameter or body that did not parse"),
            "missing": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(type=OpenAPIType.STRING),
                description="`incomplete` (a draft's submit): what is still missing, e.g. `owner.phone`, "
                "`form.child_sex`, `documents.<slot>`",
            ),
            "reason": Schema(
                type=OpenAPIType.STRING,
                description="A refused document (`infected`, `unsupported_type`, `too_large`, `unknown_slot`): "
                "the finer reason, e.g. `malformed`, `empty`, `unscannable`",
            ),
        },
        description="The portal's one error shape (portal/core/errors.py, mapped to HTTP in portal/exceptions.py)",
    )


def security_schemes() -> dict[str, SecurityScheme | Reference]:
    return {
        PARTNER_SYSTEM: SecurityScheme(
            type="oauth2",
            description="A partner system's bearer token (client credentials; docs/partner-api.md)",
            flows=OAuthFlows(client_credentials=OAuthFlow(token_url="/api/oauth/token", scopes=TOKEN_SCOPES)),
        ),
        SESSION: SecurityScheme(
            type="apiKey",
            name="portal_session",
            security_scheme_in="cookie",
            description="A signed-in person's session; unsafe methods also need the `x-csrftoken` header",
        ),
        CITY_SIGNATURE: SecurityScheme(
            type="apiKey",
            name="x-city-signature",
            security_scheme_in="header",
            description="HMAC-SHA256 of `<X-City-Timestamp>.<body>` with the shared webhook secret (docs/city-api.md)",
        ),
    }


@dataclass(frozen=True)
class _Route:
    path: str
    method: str
    handler: HTTPRouteHandler
    path_parameters: bool


def _routes(app: Litestar) -> list[_Route]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method in (HttpMethod.HEAD, HttpMethod.OPTIONS) or not handler.resolve_include_in_schema():
                continue
            found.append(_Route(route.path_format or "/", str(method), handler, bool(route.path_parameters)))
    return found


def _error(status: int, *, json: bool, headers: dict[str, OpenAPIHeader | Reference] | None = None) -> OpenAPIResponse:
    media = (
        {JSON: OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}"))}
        if json
        else {HTML: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
    )
    return OpenAPIResponse(description=STATUS_TEXT.get(status, "Refused"), content=media, headers=headers)


def _header(description: str, *, required: bool = False) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description, required=required)


def _redirect(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(description=description, headers={"Location": _header("Where to go", required=True)})


def _work(handler: HTTPRouteHandler) -> Work | None:
    work = handler.opt.get("work")
    return work if isinstance(work, Work) else None


def _needs_person(handler: HTTPRouteHandler) -> bool:
    """A page that only a signed-in person reaches (a guard or a scope that asks who they are)."""
    work = _work(handler)
    return bool(handler.resolve_guards()) or (work is not None and work.kind in ("partner", "network", "check"))


def _csrf_checked(route: _Route, csrf: CSRFConfig | None) -> bool:
    """Whether a signed-in person's request to the route is refused without its CSRF token."""
    if csrf is None or route.method not in UNSAFE_METHODS:
        return False
    if any(getattr(m, "__name__", "") == "BearerOrCSRFMiddleware" for m in route.handler.resolve_middleware()):
        return True  # the check the app skips for bearer requests only (portal/auth/api_tokens.py)
    excluded = route.handler.opt.get(csrf.exclude_from_csrf_key) or any(
        re.match(pattern, route.path) for pattern in (csrf.exclude or [])
    )
    return not excluded


def _raised_statuses(handler: HTTPRouteHandler) -> set[int]:
    return {int(exc.status_code) for exc in (handler.raises or ()) if getattr(exc, "status_code", None)}


def _returns_redirect(handler: HTTPRouteHandler) -> bool:
    returned = handler.parsed_fn_signature.return_type
    return returned.is_subclass_of(Redirect) or any(t.is_subclass_of(Redirect) for t in returned.inner_types)


def _derived(
    route: _Route, csrf: CSRFConfig | None
) -> tuple[dict[int, OpenAPIResponse], list[dict[str, list[str]]] | None]:
    """The error answers (and the security) that follow from what the route declares."""
    handler, json = route.handler, answers_json(route.path)
    statuses = {400} | _raised_statuses(handler)
    security: list[dict[str, list[str]]] | None = None
    if route.method in UNSAFE_METHODS:
        statuses.add(413)
    if _csrf_checked(route, csrf):
        statuses.add(403)
    if route.path_parameters:
        statuses.add(404)
    work = _work(handler)
    if work is not None and work.kind == "api":
        statuses |= {401, 403}
        security = [{PARTNER_SYSTEM: [work.token_scope]}, {SESSION: []}]
    elif _needs_person(handler):
        if json:
            statuses |= {401, 403}
        else:
            statuses.add(403)
        security = [{SESSION: []}]
    answers = {}
    for status in sorted(statuses):
        headers: dict[str, OpenAPIHeader | Reference] | None = None
        if status == 401:
            headers = {"WWW-Authenticate": _header('`Bearer error="invalid_token"` when a bearer token was refused')}
        elif status == 429:
            headers = {"Retry-After": _header("Seconds to wait", required=True)}
        answers[status] = _error(status, json=json, headers=headers)
    if not json and _needs_person(handler):
        answers[302] = _redirect(STATUS_TEXT[302])
    return answers, security


def _describe(route: _Route, operation: Operation, csrf: CSRFConfig | None) -> None:
    handler = route.handler
    declared = {str(status) for status in (handler.responses or {})}
    success = str(handler.status_code)
    responses: dict[str, OpenAPIResponse | Reference] = dict(operation.responses or {})
    # Litestar's own error descriptions (its default error shape) are not what the portal answers.
    for code in list(responses):
        if code != success and code not in declared:
            del responses[code]
    derived, security = _derived(route, csrf)
    for status, answer in derived.items():
        responses.setdefault(str(status), answer)
    if not answers_json(route.path):
        if _returns_redirect(handler):
            responses.setdefault("302", _redirect("Done: on to the next page"))
            responses.setdefault("303", _redirect("Done: on to the next page"))
        responses["default"] = OpenAPIResponse(
            description="Any other outcome is a page in the reader's language (the status says what happened)",
            content={HTML: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
        )
        if "pages" not in (operation.tags or []):
            operation.tags = [*(operation.tags or []), "pages"]
    operation.responses = dict(sorted(responses.items()))
    if security is not None and not handler.resolve_security():
        operation.security = security


# -- text: what the input guard refuses, said in every input's schema ----------------

# portal/security/input_guard.py: no C0 control characters in the path, the query or headers;
# in bodies, tab, line feed and carriage return only. (Lone surrogates are refused too.)
TEXT_IN_URL = r"^[^\x00-\x1f]*$"
TEXT_IN_BODY = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
_FREE_FORMATS = {None, "", "email", "uri", "password"}
SAFE_JSON = "AnyJson"  # any JSON value whose texts (keys included) are free of control characters


def safe_json_schema() -> Schema:
    here = Reference(ref=f"#/components/schemas/{SAFE_JSON}")
    return Schema(
        description="Any JSON value; no text in it (object keys included) holds a control character",
        any_of=[
            Schema(type=OpenAPIType.STRING, pattern=TEXT_IN_BODY),
            Schema(type=OpenAPIType.NUMBER),
            Schema(type=OpenAPIType.BOOLEAN),
            Schema(type=OpenAPIType.NULL),
            Schema(type=OpenAPIType.ARRAY, items=here),
            Schema(
                type=OpenAPIType.OBJECT,
                property_names=Schema(type=OpenAPIType.STRING, pattern=TEXT_IN_BODY),
                additional_properties=here,
            ),
        ],
    )


def _anything(schema: Schema | Reference | bool | None) -> bool:
    return isinstance(schema, Schema) and schema.to_schema() in ({}, {"description": schema.description})


def _is_text(schema: Schema) -> bool:
    kinds = schema.type if isinstance(schema.type, list) else [schema.type]
    return (
        OpenAPIType.STRING in kinds
        and schema.enum is None
        and schema.const is None
        and schema.pattern is None
        and (schema.format is None or str(getattr(schema.format, "value", schema.format)) in _FREE_FORMATS)
    )


def _say_no_control_characters(
    schema: Schema | Reference | None, pattern: str, components: dict[str, Schema], seen: set[int]
) -> None:
    """Give every free text reachable from `schema` the pattern the input guard enforces."""
    if isinstance(schema, Reference):
        schema = components.get(schema.ref.rsplit("/", 1)[-1])
    if schema is None or id(schema) in seen:
        return
    seen.add(id(schema))
    if _is_text(schema):
        schema.pattern = pattern
    if pattern == TEXT_IN_BODY:  # JSON bodies: "anything" means any JSON without control characters
        anything = Reference(ref=f"#/components/schemas/{SAFE_JSON}")
        if schema.properties and schema.additional_properties is None:
            schema.additional_properties = anything  # unknown fields are ignored, but checked like the rest
        if _anything(schema.additional_properties):
            schema.additional_properties = anything
        if _anything(schema.items):
            schema.items = anything
        for name, child in (schema.properties or {}).items():
            if _anything(child):
                schema.properties[name] = anything  # type: ignore[index]
    if isinstance(schema.additional_properties, Schema | Reference) and schema.property_names is None:
        schema.property_names = Schema(type=OpenAPIType.STRING, pattern=pattern)  # keys are checked too
    children: list[Schema | Reference | bool | None] = [schema.items, schema.property_names]
    if isinstance(schema.additional_properties, Schema | Reference):
        children.append(schema.additional_properties)
    children += list((schema.properties or {}).values())
    children += [*(schema.any_of or []), *(schema.one_of or []), *(schema.all_of or []), *(schema.prefix_items or [])]
    for nested in children:
        if isinstance(nested, Schema | Reference):
            _say_no_control_characters(nested, pattern, components, seen)


def _describe_inputs(operation: Operation, components: dict[str, Schema]) -> None:
    seen: set[int] = set()
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Reference):
            _say_no_control_characters(parameter.schema, TEXT_IN_URL, components, seen)
    body = operation.request_body
    if body is not None and not isinstance(body, Reference):
        for media in body.content.values():
            _say_no_control_characters(media.schema, TEXT_IN_BODY, components, seen)


def describe_answers(app: Litestar) -> OpenAPI:
    """Rewrite the app's OpenAPI description in place (see the module docstring) and return it."""
    openapi = app.openapi_schema
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), ERROR_SCHEMA: error_schema(), SAFE_JSON: safe_json_schema()}
    components.security_schemes = {**(components.security_schemes or {}), **security_schemes()}
    openapi.components = components
    for route in _routes(app):
        item = (openapi.paths or {}).get(route.path)
        operation = getattr(item, route.method.lower(), None) if item is not None else None
        if isinstance(operation, Operation):
            _describe(route, operation, app.csrf_config)
            _describe_inputs(operation, components.schemas)
    return openapi


# -- Allow: every method of the path -------------------------------------------------


def allow_every_method() -> Any:
    """A `before_send` hook: `OPTIONS` answers list every method of the path in `Allow`.

    Litestar builds a path's OPTIONS handler with the first handler registered
    for the path and lists only that handler's methods (`/api/v1/dossiers`
    answered `Allow: OPTIONS, POST` though it has GET too). The 405 answers'
    `Allow` is right already (Litestar's own, kept by `portal.exceptions`).
    """
    allowed: dict[str, bytes] = {}

    async def fix_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        if not allowed:
            for route in scope["litestar_app"].routes:
                if isinstance(route, HTTPRoute):
                    # Keyed as the scope names it: the path's format ("/api/v1/drafts/{draft_id}").
                    allowed[route.path_format or route.path] = ", ".join(sorted(route.methods)).encode()
        methods = allowed.get(str(scope.get("path_template", "")))
        if methods is not None:
            headers = MutableScopeHeaders.from_message(message)
            if "allow" in headers:
                headers["Allow"] = methods.decode()

    return fix_allow
