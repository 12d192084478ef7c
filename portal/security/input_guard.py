"""Refuse, before any handler runs, request text that has no place in a request.

Every text parameter a handler may look up reaches this check first: the path,
the query string, form bodies (url-encoded, and multipart field names, file
names and non-file values, never file contents), JSON bodies (every string,
keys included) and the headers and cookies the portal reads. Refused:

- C0 control characters (U+0000-U+001F). Tab, line feed and carriage return
  are kept inside bodies (a textarea sends CR LF); nowhere else.
- Invalid UTF-8 after percent-decoding, and lone UTF-16 surrogates (a JSON
  `\\ud800` escape): PostgreSQL cannot store either, and no person types them.
- Bodies larger than the limits below (413), and JSON nested deeper than the
  depth limit (400). Depth is measured by a scan of the raw bytes *before*
  any parser runs, so a 2 KB body of 1,000 brackets never reaches a
  recursive decoder, whatever the route does with it (the city's callback
  verifies its signature over the raw body, then parses it itself).
- Non-ASCII CSRF tokens (the portal only issues hex ones; Litestar compares
  them as text and would fail on anything else).

The portal's own cookies (`lang`, the session, the CSRF cookie) holding such
text are not refused but dropped from the request, as if never sent: see
`without_unsound_cookies`.

Refusals are `DomainError`s, so `portal.exceptions` answers them like any
other: `{"error": "invalid_input" | "request_too_large", "message": ...}`
under /api, the error page elsewhere; the OAuth token endpoint answers in
RFC 6749's shape (`invalid_request`). The message is in the language of the
`lang` cookie. The body is read once here and replayed to the application.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from portal.core.errors import DomainError
from portal.core.i18n import N_
from portal.core.settings import WebSettings, get_settings
from portal.i18n import LANGUAGE_COOKIE, resolve_language, translate

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

log = logging.getLogger(__name__)

MSG_BAD_TEXT = N_("Yêu cầu chứa ký tự không hợp lệ")
MSG_TOO_LARGE = N_("Yêu cầu quá lớn")
MSG_TOO_DEEP = N_("Dữ liệu JSON lồng nhau quá sâu")

# The defaults of the limits; each can be set from the environment (read when the app is built).
# The defaults of PORTAL_MAX_BODY_BYTES, PORTAL_MAX_MULTIPART_BYTES and PORTAL_MAX_JSON_DEPTH.
MAX_BODY_BYTES = WebSettings.max_body_bytes
MAX_MULTIPART_BYTES = WebSettings.max_multipart_bytes
MAX_JSON_DEPTH = WebSettings.max_json_depth

# Headers the portal reads (others pass untouched: browsers send what they like).
CHECKED_HEADERS = frozenset(
    {
        b"authorization",
        b"content-type",
        b"referer",
        b"origin",
        b"x-city-timestamp",
        b"x-city-signature",
        b"x-request-id",
        b"x-forwarded-for",
    }
)
# Cookies the portal reads; a foreign cookie for the same host is not ours to judge.
CHECKED_COOKIES = frozenset({"lang", "portal_session", "portal_sso", "portal_device"})
_SESSION_CHUNK = re.compile(r"portal_sso-\d+")  # Litestar splits a large cookie session into numbered cookies
DEFAULT_CSRF_COOKIE, DEFAULT_CSRF_HEADER, CSRF_FORM_FIELD = "csrftoken", "x-csrftoken", "_csrf_token"

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OAUTH_TOKEN_PATH = "/api/oauth/token"  # answers refusals in OAuth's own error shape

# Outside bodies: every C0 control. Inside bodies: all but tab, line feed, carriage return.
_FORBIDDEN_IN_URL = re.compile("[\x00-\x1f\ud800-\udfff]")
_FORBIDDEN_IN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_FORBIDDEN_IN_HEADER = re.compile(b"[\x00-\x08\x0a-\x1f]")  # HTTP allows a tab inside a field value
_JSON_STRUCTURE = re.compile(rb'["\\\[\]{}]')


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid_input"


class RequestTooLarge(DomainError):
    status_code = 413
    code = "request_too_large"


@dataclass(frozen=True)
class InputLimits:
    max_body_bytes: int = MAX_BODY_BYTES
    max_multipart_bytes: int = MAX_MULTIPART_BYTES
    max_json_depth: int = MAX_JSON_DEPTH

    @classmethod
    def from_settings(cls, web: WebSettings) -> InputLimits:
        return cls(
            max_body_bytes=web.max_body_bytes,
            max_multipart_bytes=web.max_multipart_bytes,
            max_json_depth=web.max_json_depth,
        )


class Refused(Exception):
    """Which check refused what; the middleware turns it into a DomainError in the caller's language."""

    def __init__(self, kind: type[DomainError], message: str, where: str) -> None:
        super().__init__(where)
        self.kind, self.message, self.where = kind, message, where


def _bad(where: str) -> Refused:
    return Refused(InvalidInput, MSG_BAD_TEXT, where)


def _printable(label: str) -> str:
    """A location label safe to echo back (the label may come from the refused input itself)."""
    return _FORBIDDEN_IN_URL.sub("?", label)[:100]


# -- text checks ----------------------------------------------------------------------


def check_text(text: str, where: str, *, in_body: bool) -> None:
    if (_FORBIDDEN_IN_BODY if in_body else _FORBIDDEN_IN_URL).search(text):
        raise _bad(where)


def decode_text(raw: bytes, where: str, *, in_body: bool) -> str:
    try:
        text = raw.decode("utf-8")  # strict: encoded surrogates are invalid UTF-8 too
    except UnicodeDecodeError:
        raise _bad(where) from None
    check_text(text, where, in_body=in_body)
    return text


def _percent_decoded(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


def check_pairs(raw: bytes, kind: str, *, in_body: bool) -> dict[str, str]:
    """`name=value&...` (a query string or an url-encoded form): names and values, percent-decoded."""
    seen: dict[str, str] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        name = decode_text(_percent_decoded(raw_name), kind, in_body=in_body)
        seen[name] = decode_text(_percent_decoded(raw_value), f"{kind}:{_printable(name)}", in_body=in_body)
    return seen


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether arrays/objects nest deeper than `limit`, counting brackets outside strings only.

    A linear scan over the structural bytes; it never parses, so it cannot recurse.
    """
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_STRUCTURE.finditer(body):
        i = match.start()
        char = body[i]
        if in_string:
            if i == escaped_at:
                continue
            if char == 0x5C:  # backslash: the next byte is escaped
                escaped_at = i + 1
            elif char == 0x22:
                in_string = False
            continue
        if char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif char in (0x5D, 0x7D):
            depth -= 1
    return False


def _json_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a decoded JSON value (keys included), with where it is."""
    if isinstance(value, str):
        yield value, path or "$"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield key, where
            yield from _json_strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


def check_json(body: bytes, limits: InputLimits) -> None:
    if json_too_deep(body, limits.max_json_depth):
        raise Refused(InvalidInput, MSG_TOO_DEEP, "json")
    text = decode_text(body, "json", in_body=True)
    try:
        value = json.loads(text)  # depth is bounded now; Python's decoder keeps lone surrogates, so they are seen
    except ValueError:
        return  # not JSON: the route's own parser answers that
    for string, where in _json_strings(value):
        check_text(string, f"json:{_printable(where)}", in_body=True)


def check_multipart(body: bytes, boundary: str, csrf_field: str = CSRF_FORM_FIELD) -> None:
    """Field names, file names and non-file values of a multipart/form-data body; file contents are not text."""
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, found, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not found:
            continue
        head_text = decode_text(head, "multipart", in_body=True)
        disposition = next(
            (line for line in head_text.split("\r\n") if line.lower().startswith("content-disposition:")), ""
        )
        start = disposition.find('name="')
        name = disposition[start + 6 : disposition.find('"', start + 6)] if start >= 0 else ""
        if "filename" in disposition.lower():
            continue
        value = decode_text(content.removesuffix(b"\r\n"), f"form:{_printable(name)}", in_body=True)
        if name == csrf_field and not value.isascii():
            raise _bad(f"form:{name}")


# -- the middleware -------------------------------------------------------------------


def _header_values(scope: Scope) -> Iterator[tuple[bytes, bytes]]:
    for name, value in scope.get("headers", ()):
        yield name.lower(), value


def _content_type(scope: Scope) -> tuple[str, dict[str, str]]:
    for name, value in _header_values(scope):
        if name == b"content-type":
            main, *params = value.decode("latin-1").split(";")
            options = {}
            for param in params:
                key, _, val = param.strip().partition("=")
                options[key.lower()] = val.strip().strip('"')
            return main.strip().lower(), options
    return "", {}


def _cookies(header: bytes) -> Iterator[tuple[str, bytes]]:
    for cookie in header.split(b";"):
        name, _, value = cookie.strip().partition(b"=")
        yield name.decode("latin-1"), value


def _language(scope: Scope) -> str:
    """The request's language, decided as portal.i18n decides it (cookie, then Accept-Language)."""
    cookie: str | None = None
    accept_language: str | None = None
    for name, value in _header_values(scope):
        if name == b"cookie":
            for cookie_name, raw in _cookies(value):
                if cookie_name == LANGUAGE_COOKIE:
                    cookie = raw.decode("latin-1")
        elif name == b"accept-language":
            accept_language = value.decode("latin-1")
    return resolve_language(cookie, accept_language)


def _csrf_names(scope: Scope) -> tuple[str, bytes]:
    app = scope.get("litestar_app")
    config = getattr(app, "csrf_config", None)
    if config is None:
        return DEFAULT_CSRF_COOKIE, DEFAULT_CSRF_HEADER.encode()
    return config.cookie_name, config.header_name.lower().encode()


def check_basic_credentials(value: bytes) -> None:
    """client_secret_basic (RFC 6749 §2.3.1): the id and secret are form-encoded inside the base64."""
    scheme, _, encoded = value.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return  # not Basic at all: the token endpoint answers that itself
    for part in decoded.split(b":", 1):
        decode_text(_percent_decoded(part), "header:authorization", in_body=False)


def _cookie_is_sound(name: str, raw: bytes, csrf_cookie: str) -> bool:
    try:
        text = decode_text(unquote_to_bytes(raw), f"cookie:{name}", in_body=False)
    except Refused:
        return False
    return text.isascii() or name != csrf_cookie


def without_unsound_cookies(header: bytes, csrf_cookie: str) -> bytes:
    """The Cookie header less the portal's own cookies that hold text no cookie of ours can hold.

    A cookie is not something a person typed, and a sibling host of the domain can set one:
    refusing the request would lock the browser out until the cookie expires. Dropped, it is
    as if never sent (no session, the default language, a fresh CSRF token).
    """
    kept = []
    for cookie in header.split(b";"):
        raw_name, _, raw = cookie.strip().partition(b"=")
        name = raw_name.decode("latin-1")
        ours = name in CHECKED_COOKIES or name == csrf_cookie or _SESSION_CHUNK.fullmatch(name) is not None
        if not ours or _cookie_is_sound(name, raw, csrf_cookie):
            kept.append(cookie)
    return b";".join(kept)


def check_url_and_headers(scope: Scope) -> None:
    raw_path = scope.get("raw_path")
    if raw_path:
        # Some servers put the query string into raw_path too; it is checked below.
        once = unquote_to_bytes(raw_path.partition(b"?")[0])
        decode_text(once, "path", in_body=False)
        # Litestar percent-decodes path parameters once more, so /rate/%2500 would hand a handler a NUL:
        # check what that second decoding gives as well.
        decode_text(unquote_to_bytes(once), "path", in_body=False)
    else:
        check_text(scope.get("path", ""), "path", in_body=False)
    check_pairs(scope.get("query_string", b""), "query", in_body=False)
    csrf_cookie, csrf_header = _csrf_names(scope)
    headers = list(scope.get("headers", ()))
    for index, (raw_name, value) in enumerate(headers):
        name = raw_name.lower()
        if name == b"cookie":
            cleaned = without_unsound_cookies(value, csrf_cookie)
            if cleaned != value:
                headers[index] = (raw_name, cleaned)
                scope["headers"] = headers
        elif name in CHECKED_HEADERS or name == csrf_header:
            if _FORBIDDEN_IN_HEADER.search(value):
                raise _bad(f"header:{name.decode('latin-1')}")
            if name == csrf_header and not value.isascii():
                raise _bad(f"header:{name.decode('latin-1')}")
            if name == b"authorization":
                check_basic_credentials(value)


def _looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def check_body(scope: Scope, body: bytes, limits: InputLimits) -> None:
    content_type, options = _content_type(scope)
    if content_type == "multipart/form-data":
        check_multipart(body, options.get("boundary", ""), CSRF_FORM_FIELD)
        return
    if content_type == "application/json" or content_type.endswith("+json") or _looks_like_json(body):
        # JSON-looking bodies of any declared type too: a route may parse its raw body whatever the header says.
        check_json(body, limits)
    if content_type == "application/x-www-form-urlencoded":
        fields = check_pairs(body, "form", in_body=True)
        if not fields.get(CSRF_FORM_FIELD, "").isascii():
            raise _bad(f"form:{CSRF_FORM_FIELD}")


def _declared_length(scope: Scope) -> int | None:
    for name, value in _header_values(scope):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class InputGuardMiddleware:
    """ASGI middleware (outermost of the app's own): checks the request, buffers the body, replays it."""

    def __init__(self, app: ASGIApp, limits: InputLimits | None = None) -> None:
        self.app = app
        self.limits = limits or InputLimits.from_settings(get_settings().web)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_url_and_headers(scope)
            if scope.get("method", "GET") in BODY_METHODS:
                body = await self._read_body(scope, receive)
                check_body(scope, body, self.limits)
                receive = _replay(body, receive)
        except Refused as refused:
            # Logged, not audited: the refusal changes nothing, and a flood must not flood the audit log.
            log.warning(
                "refused request input: %s %s (%s, %s)",
                scope.get("method"),
                _printable(scope.get("path", "")),
                refused.kind.code,
                _printable(refused.where),
            )
            message = translate(refused.message, _language(scope))
            if scope.get("path") == OAUTH_TOKEN_PATH:
                await _send_oauth_error(send, refused.kind.status_code, message)
                return
            raise refused.kind(message, field_errors={refused.where: message}) from None
        await self.app(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        content_type, _ = _content_type(scope)
        limit = self.limits.max_multipart_bytes if content_type == "multipart/form-data" else self.limits.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            raise Refused(RequestTooLarge, MSG_TOO_LARGE, "body")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the application sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(RequestTooLarge, MSG_TOO_LARGE, "body")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _send_oauth_error(send: Send, status: int, message: str) -> None:
    """The token endpoint answers in RFC 6749 §5.2's shape, refusals at the edge included."""
    body = json.dumps({"error": "invalid_request", "error_description": message}, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the buffered body over once, then defers to the real one (disconnects)."""
    delivered = False

    async def replay() -> ReceiveMessage:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
