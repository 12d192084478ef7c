"""No input answers 5xx: hostile values thrown at every route of the app (issue #7 item 10).

The routes come from the Litestar app's own route table, so a route added
tomorrow is covered without touching this file. For each route and method, a
plausible request (path parameters of the right shape, the CSRF token, a body of
the route's kind) is sent with one place made hostile at a time: each path
parameter, each query parameter the handler reads (and one it does not), the
form or JSON body, the headers the portal reads, the cookies. Hostile means: a
NUL byte, other control characters, a lone surrogate, invalid UTF-8, a 1 MB
string, JSON nested 1,000 levels deep, non-ASCII header values and values of the
wrong type. Each request is sent anonymously and signed in (as a person holding
a role at every level, so that guards let the request through to the handler).

Whatever the answer (400, 401, 403, 404, 405, 413, 422, a redirect), it is never
a 5xx. Runs on SQLite and PostgreSQL (where a NUL reaching a query answered 500).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.enums import HttpMethod
from litestar.routes import HTTPRoute

from agents.staff.models import Role
from tests.factories import PASSWORD, create_partner, create_person, create_point, ensure_procedures

MEGABYTE = "x" * (1024 * 1024)
# A URL cannot carry a megabyte: HTTP servers (uvicorn's h11) and clients stop at 64 KiB.
LONG_IN_URL = "x" * 20_000  # percent-encoded by _q below; stays under the clients' limit
DEEP_JSON = "[" * 1000 + "]" * 1000
PATH_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")

# Text values, as they would appear decoded; `_url` percent-encodes them as a client would
# (a lone surrogate has no UTF-8 encoding: it is sent as the bytes a careless encoder makes).
HOSTILE_TEXT: dict[str, str] = {
    "NUL": "a\x00b",
    "control characters": "a\x01\x08\x1b\x7fb",
    "line breaks": "a\r\nSet-Cookie: x=1",
    "lone surrogate": "a\ud800b",
    "1 MB": MEGABYTE,  # in a URL: LONG_IN_URL (see `_in_url`)
    "non-ASCII": "Nguyễn Văn Ân ☃ 𝔘",
    "wrong type": "not-a-number-[]{}",
    "percent signs": "%00%zz%",
}
RAW_URL_BYTES = {"invalid UTF-8": "%FF%FE", "encoded surrogate": "%ED%A0%80", "overlong NUL": "%C0%80"}

# Names the handlers read from forms and JSON bodies; a route ignores the ones it does not know.
FIELDS = (
    "email",
    "password",
    "next",
    "code",
    "phone",
    "tracking_code",
    "token",
    "stars",
    "comment",
    "name",
    "full_name",
    "reason",
    "role",
    "status",
    "scopes",
    "agent_point_id",
    "idempotency_key",
    "procedure_code",
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "owner_full_name",
    "owner_id_number",
    "owner_phone",
)
JSON_BODIES: dict[str, bytes] = {
    "nested 1,000 deep": DEEP_JSON.encode(),
    "a list": b"[1, 2, 3]",
    "a string": b'"x"',
    "a number": b"1e999999",
    "null": b"null",
    "broken JSON": b'{"a": ',
    "lone surrogate escape": json.dumps({f: "\\ud800" for f in FIELDS}).replace("\\\\", "\\").encode(),
    "NUL escape": json.dumps({f: "a\x00" for f in FIELDS}).encode(),
    "wrong types": json.dumps(
        {
            "procedure_code": 5,
            "idempotency_key": [],
            "citizen": "x",
            "form": [1],
            "agent_point_id": "not-a-uuid",
            "tracking_code": {"a": 1},
            "phone": 12345678901234567890123,
            "status": None,
        }
    ).encode(),
    "huge numbers": json.dumps({f: 10**400 for f in FIELDS}).encode(),
    "1 MB value": json.dumps({"procedure_code": MEGABYTE}).encode(),
}
# Headers the portal reads; values the HTTP client can send (bytes: non-ASCII as it arrives).
HOSTILE_HEADERS: dict[str, dict[str, bytes]] = {
    "non-ASCII authorization": {"authorization": "Bearer é☃".encode()},
    "latin-1 authorization": {"authorization": b"Basic \xe9\xe9"},
    "broken basic": {"authorization": b"Basic !!!not-base64"},
    "non-ASCII content-type": {"content-type": "application/json; charset=é".encode()},
    "unknown content-type": {"content-type": b"application/x-unknown"},
    "multipart without boundary": {"content-type": b"multipart/form-data"},
    "non-ASCII city signature": {"x-city-signature": "é".encode(), "x-city-timestamp": b"1700000000"},
    "non-ASCII referer": {"referer": "http://testserver.local/é".encode()},
    "non-ASCII origin": {"origin": "http://é.example".encode()},
    "non-ASCII request id": {"x-request-id": "é☃".encode()},
    "non-ASCII forwarded-for": {"x-forwarded-for": "é, 1.2.3.4".encode()},
    "non-ASCII accept-language": {"accept-language": "é☃;q=x".encode()},
    "non-ASCII host": {"host": "é.example".encode()},
    "huge header": {"x-request-id": b"x" * 64_000},
    "non-ASCII cookie": {"cookie": "lang=é; portal_session=☃; csrftoken=é".encode()},
    "forged session": {"cookie": b"portal_session=" + b"A" * 300 + b"; lang=en"},
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # Litestar's path, e.g. /dossiers/{dossier_id:uuid}
    query: tuple[str, ...]  # query parameters the handler reads
    body: str  # "json", "form" or "" (no body)

    def path(self, **values: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name, kind = match.group(1), match.group(2)
            if name in values:
                return values[name]
            return {"uuid": str(uuid.uuid4()), "int": "1", "path": "x/y"}.get(kind or "str", "HN-1")

        return PATH_PARAMETER.sub(fill, self.template)

    @property
    def parameters(self) -> list[str]:
        return [m.group(1) for m in PATH_PARAMETER.finditer(self.template)]

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


RESERVED = {"request", "state", "scope", "headers", "cookies", "query", "body", "socket", "data"}


def endpoints(app: Litestar) -> list[Endpoint]:
    """Every method of every HTTP route in the app's route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method == HttpMethod.OPTIONS:
                continue
            signature = handler.parsed_fn_signature.parameters
            injected = set(handler.resolve_dependencies()) | RESERVED | set(route.path_parameters)
            query = tuple(name for name in signature if name not in injected)
            data = signature.get("data")
            body = ""
            if data is not None:
                body = "json" if "json" in str(data.kwarg_definition or "").lower() else "form"
                if "url" in str(getattr(data.kwarg_definition, "media_type", "")).lower():
                    body = "form"
            elif "body" in signature:
                body = "json"  # a raw body (the city's callback): JSON is what it expects
            found.append(Endpoint(str(method), route.path, query, body))
    return sorted(found, key=str)


@dataclass
class Probe:
    label: str
    path: str
    query: str = ""
    headers: dict[str, bytes] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str | None = None


def _in_url(value: str) -> str:
    return _q(LONG_IN_URL if value is MEGABYTE else value)


def _q(value: str) -> str:
    """Percent-encode as a client would; a lone surrogate goes out as its (invalid) UTF-8 bytes."""
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")


def _form(values: dict[str, str], csrf: str) -> bytes:
    pairs = [f"{_q(k)}={_q(v)}" for k, v in values.items()] + [f"_csrf_token={csrf}"]
    return "&".join(pairs).encode()


def _benign_body(endpoint: Endpoint, csrf: str) -> tuple[bytes | None, str | None]:
    if endpoint.body == "json":
        return json.dumps({"tracking_code": "HN-1", "phone": "0912345678"}).encode(), "application/json"
    if endpoint.body == "form" or endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
        return _form({"email": "a@b.vn"}, csrf), "application/x-www-form-urlencoded"
    return None, None


def probes(endpoint: Endpoint, csrf: str) -> Iterator[Probe]:
    benign_body, benign_type = _benign_body(endpoint, csrf)

    def probe(label: str, **kw: Any) -> Probe:
        kw.setdefault("path", endpoint.path())
        kw.setdefault("content", benign_body)
        kw.setdefault("content_type", benign_type)
        return Probe(label, **kw)

    for name in endpoint.parameters:
        for kind, value in HOSTILE_TEXT.items():
            yield probe(f"path {name}: {kind}", path=endpoint.path(**{name: _in_url(value)}))
        for kind, raw in RAW_URL_BYTES.items():
            yield probe(f"path {name}: {kind}", path=endpoint.path(**{name: raw}))
    for kind in ("NUL", "lone surrogate", "1 MB"):  # a parameter no handler reads: the edge alone answers
        yield probe(f"query unknown: {kind}", query=f"unknown={_in_url(HOSTILE_TEXT[kind])}")
    yield probe("query unknown: invalid UTF-8", query="unknown=%FF%FE")
    for name in endpoint.query:
        for kind, value in HOSTILE_TEXT.items():
            yield probe(f"query {name}: {kind}", query=f"{name}={_in_url(value)}")
        for kind, raw in RAW_URL_BYTES.items():
            yield probe(f"query {name}: {kind}", query=f"{name}={raw}")
        yield probe(f"query {name}: repeated", query=f"{name}=1&{name}=2")
        yield probe(f"query {name}: negative huge", query=f"{name}=-{'9' * 400}")
    if endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
        for kind, value in HOSTILE_TEXT.items():
            # A megabyte in one field (the body limit is a quarter of it); the other values in every field.
            form = _form({"email": value} if value is MEGABYTE else dict.fromkeys(FIELDS, value), csrf)
            yield probe(f"form: {kind}", content=form, content_type="application/x-www-form-urlencoded")
        yield probe(
            "form: invalid UTF-8",
            content=b"email=%FF&name=\xff\xfe&_csrf_token=" + csrf.encode(),
            content_type="application/x-www-form-urlencoded",
        )
        yield probe(
            "multipart: broken",
            content=b"--b\r\nContent-Disposition: form-data\r\n\r\nx",
            content_type="multipart/form-data; boundary=b",
        )
        for kind, body in JSON_BODIES.items():
            yield probe(f"json: {kind}", content=body, content_type="application/json")
    for kind, headers in HOSTILE_HEADERS.items():
        yield probe(f"headers: {kind}", headers=headers)


@pytest.fixture(scope="module")
def everyone():
    """A person holding a role at every level: guards let them through to the handlers."""
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner)
    return create_person(
        (Role.agent_staff, partner, point),
        (Role.point_lead, partner, point),
        (Role.partner_manager, partner, None),
        (Role.center_admin, None, None),
    )


def _send(client, endpoint: Endpoint, probe: Probe, csrf: str):  # type: ignore[no-untyped-def]
    headers: dict[str, bytes | str] = {"x-csrftoken": csrf}
    if probe.content_type:
        headers["content-type"] = probe.content_type
    headers.update(probe.headers)
    url = probe.path + (f"?{probe.query}" if probe.query else "")
    return client.http.request(endpoint.method, url, content=probe.content, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("who", ["anonymous", "signed in"])
def test_no_hostile_input_to_any_route_answers_5xx(app, portal, everyone, who):
    client = portal()
    if who == "signed in":
        assert client.sign_in(everyone.email, PASSWORD).status_code in (302, 303)
    csrf = client.csrf
    routes = endpoints(app)
    assert len(routes) > 40  # the route table was read, not an empty list
    failures: list[str] = []
    for endpoint in routes:
        for probe in probes(endpoint, csrf):
            response = _send(client, endpoint, probe, csrf)
            if response.status_code >= 500:
                failures.append(f"{endpoint} [{probe.label}] -> {response.status_code} {response.text[:120]!r}")
        # A route may have ended the session (signing out, everywhere or here): sign in again.
        if who == "signed in" and client.get("/dossiers", follow_redirects=False).status_code != 200:
            client.sign_in(everyone.email, PASSWORD)  # a throttled sign-in (429) carries on anonymously
            csrf = client.csrf
    assert failures == [], "\n".join(failures)


def test_the_route_table_includes_every_kind_of_route(app):
    """The enumeration sees pages, the JSON API, path parameters, query parameters and bodies."""
    found = {str(e): e for e in endpoints(app)}
    assert "POST /api/v1/dossiers" in found and found["POST /api/v1/dossiers"].body == "json"
    assert "POST /login" in found and found["POST /login"].body == "form"
    assert found["GET /api/v1/dossiers"].query == ("limit",)
    assert found["GET /dossiers/{dossier_id:uuid}"].parameters == ["dossier_id"]
    assert found["POST /api/city/callbacks"].body == "json"
    assert any(t.startswith("/static") for t in (e.template for e in found.values()))
