"""Specification of the OpenID Connect identity-provider simulator.

The simulator is served by a real uvicorn server on a free local port and
driven over HTTP the way a browser (the login form) and a relying party (the
token, JWKS and userinfo calls) would drive a real identity provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from simulators.idp import ConfigError, IdpConfig
from simulators.idp.app import create_app
from tests.servers import bound_socket, serve_in_thread

PORTAL = "http://127.0.0.1:8000"
VNPOST_CLIENT = "portal-vnpost"
VNPOST_SECRET = "portal-vnpost-secret"
VNPOST_REDIRECT = f"{PORTAL}/auth/sso/vnpost/callback"
LAN = {"sub": "u-001", "email": "lan.nguyen@vnpost.vn", "name": "Nguyễn Thị Lan", "password": "demo"}


# --------------------------------------------------------------------------- harness


@dataclass
class RunningIdp:
    base_url: str
    app: Any

    @property
    def sim(self) -> Any:
        return self.app.state.idp

    def issuer(self, tenant: str = "vnpost") -> str:
        return f"{self.base_url}/{tenant}"


@pytest.fixture(scope="module")
def idp() -> Iterator[RunningIdp]:
    with serve_in_thread(lambda url: create_app(IdpConfig(public_url=url))) as (base_url, app):
        yield RunningIdp(base_url, app)


@pytest.fixture
def http(idp: RunningIdp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=idp.base_url, follow_redirects=False, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_idp(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from the simulator's start-up state."""
    yield
    if "idp" in request.fixturenames:
        running: RunningIdp = request.getfixturevalue("idp")
        running.sim.clock = time.time
        httpx.post(f"{running.base_url}/_idp/reset", timeout=10).raise_for_status()


# --------------------------------------------------------------------------- relying-party helpers


class _FormParser(HTMLParser):
    """Collects forms (id, action, inputs), label texts, button texts and alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self.labels: list[str] = []
        self.buttons: list[str] = []
        self.alerts: list[str] = []
        self._form: dict[str, Any] | None = None
        self._capture: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get"), "inputs": {}}
            self.forms[a.get("id", "")] = self._form
        elif tag == "input" and self._form is not None:
            self._form["inputs"][a.get("name", "")] = a.get("value", "")
        elif tag == "label":
            self._capture = self.labels
            self.labels.append("")
        elif tag == "button":
            self._capture = self.buttons
            self.buttons.append("")
        elif a.get("role") == "alert":
            self._capture = self.alerts
            self.alerts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag in {"label", "button", "p"}:
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture[-1] += data.strip()


def parse_page(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    return parser


def make_pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(challenge: str | None, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": VNPOST_CLIENT,
        "redirect_uri": VNPOST_REDIRECT,
        "scope": "openid email profile",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def submit_login(http: httpx.Client, authorize_url: str, email: str, password: str) -> httpx.Response:
    """What a browser does: load the login page, fill the form, submit it."""
    page = http.get(authorize_url)
    assert page.status_code == 200, page.text
    form = parse_page(page.text).forms["idp-login"]
    fields = {**form["inputs"], "email": email, "password": password}
    return http.post(urljoin(str(page.url), form["action"]), data=fields)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Login:
    code: str
    verifier: str
    params: dict[str, str]
    callback: dict[str, str] = field(default_factory=dict)


def sign_in(http: httpx.Client, tenant: str = "vnpost", user: dict[str, str] = LAN, **overrides: str | None) -> Login:
    """Run the front-channel part of the flow and return the authorization code."""
    verifier, challenge = make_pkce()
    params = authorize_params(challenge, **overrides)
    url = httpx.URL(f"/{tenant}/authorize", params=params)
    response = submit_login(http, str(http.base_url.join(url)), user["email"], user["password"])
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(params["redirect_uri"] + "?")
    callback = query_of(location)
    return Login(code=callback["code"], verifier=verifier, params=params, callback=callback)


def redeem(
    http: httpx.Client,
    login: Login,
    tenant: str = "vnpost",
    *,
    verifier: str | None = None,
    secret: str = VNPOST_SECRET,
    redirect_uri: str | None = None,
) -> httpx.Response:
    return http.post(
        f"/{tenant}/token",
        data={
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": redirect_uri or login.params["redirect_uri"],
            "code_verifier": verifier or login.verifier,
        },
        auth=(login.params["client_id"], secret),
    )


def fetch_jwks(http: httpx.Client, tenant: str = "vnpost") -> KeySet:
    discovery = http.get(f"/{tenant}/.well-known/openid-configuration").json()
    return KeySet.import_key_set(httpx.get(discovery["jwks_uri"], timeout=10).json())


def claims_registry(issuer: str, client_id: str, nonce: str) -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )


def put_knobs(http: httpx.Client, **knobs: Any) -> dict[str, Any]:
    response = http.put("/_idp/config", json=knobs)
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------- discovery & keys


def test_discovery_document_describes_the_tenant_issuer(idp: RunningIdp, http: httpx.Client) -> None:
    response = http.get("/vnpost/.well-known/openid-configuration")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    meta = response.json()
    issuer = idp.issuer("vnpost")
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/authorize"
    assert meta["token_endpoint"] == f"{issuer}/token"
    assert meta["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert meta["jwks_uri"] == f"{issuer}/jwks"
    assert meta["end_session_endpoint"] == f"{issuer}/logout"
    assert meta["response_types_supported"] == ["code"]
    assert meta["subject_types_supported"] == ["public"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["scopes_supported"] == ["openid", "email", "profile"]
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["grant_types_supported"] == ["authorization_code"]
    assert {"iss", "sub", "aud", "exp", "iat", "nonce", "email", "name"} <= set(meta["claims_supported"])


def test_discovery_document_passes_authlib_metadata_validation(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authlib.oidc.discovery import OpenIDProviderMetadata

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the simulator speaks plain http
    OpenIDProviderMetadata(http.get("/vnpost/.well-known/openid-configuration").json()).validate()


def test_each_tenant_is_a_separate_issuer_with_its_own_key(idp: RunningIdp, http: httpx.Client) -> None:
    vnpost = http.get("/vnpost/.well-known/openid-configuration").json()
    viettel = http.get("/viettelpost/.well-known/openid-configuration").json()
    assert vnpost["issuer"] == idp.issuer("vnpost")
    assert viettel["issuer"] == idp.issuer("viettelpost")

    vnpost_keys = http.get("/vnpost/jwks").json()["keys"]
    viettel_keys = http.get("/viettelpost/jwks").json()["keys"]
    assert vnpost_keys[0]["kid"] != viettel_keys[0]["kid"]
    assert vnpost_keys[0]["n"] != viettel_keys[0]["n"]


def test_jwks_publishes_only_the_public_rsa_signing_key(http: httpx.Client) -> None:
    response = http.get("/vnpost/jwks")

    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert key["kid"]
    assert key["e"] == "AQAB"
    assert len(base64.urlsafe_b64decode(key["n"] + "==")) * 8 == 2048
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "private parameters leaked"


def test_unknown_tenant_is_a_json_404(http: httpx.Client) -> None:
    for path in ("/acme/.well-known/openid-configuration", "/acme/jwks", "/acme/authorize"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "unknown_tenant"


def test_healthz(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "tenants": ["viettelpost", "vnpost"]}


# --------------------------------------------------------------------------- the happy path


def test_code_flow_with_pkce_issues_an_id_token_verifiable_against_the_jwks(
    idp: RunningIdp, http: httpx.Client
) -> None:
    verifier, challenge = make_pkce()
    params = authorize_params(challenge)

    # 1. The browser is sent to the authorization endpoint and gets a login form.
    page = http.get("/vnpost/authorize", params=params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parsed = parse_page(page.text)
    form = parsed.forms["idp-login"]
    assert form["method"].lower() == "post"
    assert {"email", "password"} <= set(form["inputs"])
    assert parsed.labels == ["Email", "Password"]
    assert parsed.buttons == ["Sign in"]

    # 2. The user submits correct credentials; the IdP redirects back with a code.
    response = http.post(
        urljoin(str(page.url), form["action"]),
        data={**form["inputs"], "email": LAN["email"], "password": LAN["password"]},
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(VNPOST_REDIRECT + "?")
    callback = query_of(location)
    assert callback["state"] == params["state"]
    assert callback["code"]

    # 3. The portal redeems the code at the token endpoint (client_secret_basic).
    token_response = http.post(
        "/vnpost/token",
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": VNPOST_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(VNPOST_CLIENT, VNPOST_SECRET),
    )
    assert token_response.status_code == 200, token_response.text
    assert token_response.headers["cache-control"] == "no-store"
    tokens = token_response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid email profile"
    assert tokens["access_token"]

    # 4. The ID token is an RS256 JWT signed with the key published in the JWKS.
    keys = fetch_jwks(http)
    token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] == keys.keys[0].kid
    claims_registry(idp.issuer("vnpost"), VNPOST_CLIENT, params["nonce"]).validate(token.claims)
    claims = token.claims
    assert claims["sub"] == LAN["sub"]
    assert claims["email"] == LAN["email"]
    assert claims["email_verified"] is True
    assert claims["name"] == LAN["name"]
    now = time.time()
    assert abs(claims["iat"] - now) < 10
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["auth_time"] - now) < 10


def test_client_secret_post_is_accepted(http: httpx.Client) -> None:
    login = sign_in(http)
    response = http.post(
        "/vnpost/token",
        data={
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": VNPOST_REDIRECT,
            "code_verifier": login.verifier,
            "client_id": VNPOST_CLIENT,
            "client_secret": VNPOST_SECRET,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["id_token"]


def test_authorization_response_redirect_keeps_state_and_names_the_issuer(idp: RunningIdp, http: httpx.Client) -> None:
    login = sign_in(http, state="keep-me-exactly")
    assert login.callback["state"] == "keep-me-exactly"
    assert login.callback["iss"] == idp.issuer("vnpost")  # RFC 9207


def test_login_hint_prefills_the_email_field(http: httpx.Client) -> None:
    _, challenge = make_pkce()
    page = http.get("/vnpost/authorize", params=authorize_params(challenge, login_hint=LAN["email"]))
    assert parse_page(page.text).forms["idp-login"]["inputs"]["email"] == LAN["email"]


def test_email_is_matched_case_insensitively(http: httpx.Client) -> None:
    login = sign_in(http, user={**LAN, "email": LAN["email"].upper()})
    assert redeem(http, login).status_code == 200


# --------------------------------------------------------------------------- authorization endpoint errors


def test_wrong_password_shows_the_form_again_with_an_error(http: httpx.Client) -> None:
    _, challenge = make_pkce()
    url = str(http.base_url.join(httpx.URL("/vnpost/authorize", params=authorize_params(challenge))))

    response = submit_login(http, url, LAN["email"], "not-the-password")

    assert response.status_code == 200
    assert "location" not in response.headers
    page = parse_page(response.text)
    assert page.alerts == ["Invalid email or password"]
    assert "idp-login" in page.forms
    assert page.forms["idp-login"]["inputs"]["email"] == LAN["email"]


def test_unknown_email_is_rejected_with_the_same_message(http: httpx.Client) -> None:
    _, challenge = make_pkce()
    url = str(http.base_url.join(httpx.URL("/vnpost/authorize", params=authorize_params(challenge))))
    response = submit_login(http, url, "nobody@vnpost.vn", "demo")
    assert response.status_code == 200
    assert parse_page(response.text).alerts == ["Invalid email or password"]


def test_user_of_another_tenant_cannot_sign_in(http: httpx.Client) -> None:
    _, challenge = make_pkce()
    url = str(
        http.base_url.join(
            httpx.URL(
                "/viettelpost/authorize",
                params=authorize_params(
                    challenge,
                    client_id="portal-viettelpost",
                    redirect_uri=f"{PORTAL}/auth/sso/viettelpost/callback",
                ),
            )
        )
    )
    response = submit_login(http, url, LAN["email"], LAN["password"])
    assert response.status_code == 200
    assert parse_page(response.text).alerts == ["Invalid email or password"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"redirect_uri": "https://attacker.example/callback"}, id="unregistered-redirect-uri"),
        pytest.param({"redirect_uri": VNPOST_REDIRECT + "/extra"}, id="redirect-uri-prefix-only"),
        pytest.param({"redirect_uri": None}, id="missing-redirect-uri"),
        pytest.param({"client_id": "portal-unknown"}, id="unknown-client"),
        pytest.param({"client_id": "portal-viettelpost"}, id="client-of-another-tenant"),
    ],
)
def test_untrusted_client_or_redirect_uri_gets_an_error_page_and_never_a_redirect(
    http: httpx.Client, overrides: dict[str, str | None]
) -> None:
    _, challenge = make_pkce()
    response = http.get("/vnpost/authorize", params=authorize_params(challenge, **overrides))

    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert parse_page(response.text).alerts == ["Sign-in request rejected"]
    assert "idp-login" not in parse_page(response.text).forms


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"code_challenge": None}, "invalid_request", id="missing-code-challenge"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain-pkce"),
        pytest.param({"code_challenge_method": None}, "invalid_request", id="missing-pkce-method"),
        pytest.param({"scope": "email profile"}, "invalid_scope", id="no-openid-scope"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit-flow"),
        pytest.param({"response_type": None}, "invalid_request", id="missing-response-type"),
        pytest.param({"prompt": "none"}, "login_required", id="prompt-none"),
    ],
)
def test_bad_authorization_request_redirects_back_with_an_error(
    idp: RunningIdp, http: httpx.Client, overrides: dict[str, str | None], error: str
) -> None:
    _, challenge = make_pkce()
    params = authorize_params(challenge, **overrides)

    response = http.get("/vnpost/authorize", params=params)

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(VNPOST_REDIRECT + "?")
    callback = query_of(location)
    assert callback["error"] == error
    assert callback["error_description"]
    assert callback["state"] == params["state"]
    assert callback["iss"] == idp.issuer("vnpost")
    assert "code" not in callback


def test_tampered_login_form_is_validated_again(http: httpx.Client) -> None:
    _, challenge = make_pkce()
    page = http.get("/vnpost/authorize", params=authorize_params(challenge))
    form = parse_page(page.text).forms["idp-login"]
    evil = {**authorize_params(challenge), "redirect_uri": "https://attacker.example/cb"}
    packed = base64.urlsafe_b64encode(json.dumps(evil).encode()).decode().rstrip("=")

    response = http.post(
        "/vnpost/authorize",
        data={**form["inputs"], "request": packed, "email": LAN["email"], "password": LAN["password"]},
    )

    assert response.status_code == 400
    assert "location" not in response.headers


# --------------------------------------------------------------------------- token endpoint


def test_pkce_verifier_mismatch_is_invalid_grant(http: httpx.Client) -> None:
    login = sign_in(http)
    other_verifier, _ = make_pkce()

    response = redeem(http, login, verifier=other_verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # The failed attempt consumed the code: even the right verifier is now too late.
    assert redeem(http, login).json()["error"] == "invalid_grant"


def test_code_can_be_redeemed_only_once_and_reuse_revokes_its_tokens(http: httpx.Client) -> None:
    login = sign_in(http)
    first = redeem(http, login)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert http.get("/vnpost/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code == 200

    second = redeem(http, login)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: tokens issued from a replayed code are revoked.
    assert http.get("/vnpost/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code == 401


def test_code_expires_after_sixty_seconds(idp: RunningIdp, http: httpx.Client) -> None:
    login = sign_in(http)
    idp.sim.clock = lambda: time.time() + 61

    response = redeem(http, login)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_is_bound_to_the_redirect_uri(http: httpx.Client) -> None:
    login = sign_in(http)
    response = redeem(http, login, redirect_uri=f"{PORTAL}/somewhere-else")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_one_tenant_is_unknown_to_another(http: httpx.Client) -> None:
    login = sign_in(http)
    response = http.post(
        "/viettelpost/token",
        data={
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": VNPOST_REDIRECT,
            "code_verifier": login.verifier,
        },
        auth=("portal-viettelpost", "portal-viettelpost-secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("method", ["basic", "post"])
def test_wrong_client_secret_is_invalid_client(idp: RunningIdp, http: httpx.Client, method: str) -> None:
    login = sign_in(http)
    data = {
        "grant_type": "authorization_code",
        "code": login.code,
        "redirect_uri": VNPOST_REDIRECT,
        "code_verifier": login.verifier,
    }
    if method == "basic":
        response = http.post("/vnpost/token", data=data, auth=(VNPOST_CLIENT, "wrong-secret"))
    else:
        response = http.post(
            "/vnpost/token", data={**data, "client_id": VNPOST_CLIENT, "client_secret": "wrong-secret"}
        )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    # A failed client authentication does not burn the code of the real client.
    assert redeem(http, login).status_code == 200


def test_missing_client_authentication_is_invalid_client(http: httpx.Client) -> None:
    login = sign_in(http)
    response = http.post(
        "/vnpost/token",
        data={
            "grant_type": "authorization_code",
            "code": login.code,
            "redirect_uri": VNPOST_REDIRECT,
            "code_verifier": login.verifier,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unsupported_grant_type(http: httpx.Client) -> None:
    response = http.post(
        "/vnpost/token",
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(VNPOST_CLIENT, VNPOST_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"code": "abc", "redirect_uri": VNPOST_REDIRECT}, id="missing-grant-type"),
        pytest.param({"grant_type": "authorization_code", "redirect_uri": VNPOST_REDIRECT}, id="missing-code"),
    ],
)
def test_incomplete_token_request_is_invalid_request(http: httpx.Client, data: dict[str, str]) -> None:
    response = http.post("/vnpost/token", data=data, auth=(VNPOST_CLIENT, VNPOST_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_token_request_must_be_form_encoded(http: httpx.Client) -> None:
    response = http.post(
        "/vnpost/token", json={"grant_type": "authorization_code"}, auth=(VNPOST_CLIENT, VNPOST_SECRET)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --------------------------------------------------------------------------- userinfo


def test_userinfo_returns_the_signed_in_user_for_a_valid_access_token(http: httpx.Client) -> None:
    tokens = redeem(http, sign_in(http)).json()

    response = http.get("/vnpost/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    assert response.status_code == 200
    assert response.json() == {
        "sub": LAN["sub"],
        "email": LAN["email"],
        "email_verified": True,
        "name": LAN["name"],
    }


@pytest.mark.parametrize(
    ("headers", "has_error_code"),
    [
        pytest.param({"Authorization": "Bearer not-a-real-token"}, True, id="unknown-token"),
        pytest.param({"Authorization": "Basic Zm9vOmJhcg=="}, True, id="wrong-scheme"),
        pytest.param({}, False, id="no-token"),
    ],
)
def test_userinfo_rejects_a_bad_token_with_401_and_a_bearer_challenge(
    http: httpx.Client, headers: dict[str, str], has_error_code: bool
) -> None:
    response = http.get("/vnpost/userinfo", headers=headers)

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="' in challenge) is has_error_code


def test_access_token_of_one_tenant_is_rejected_by_another(http: httpx.Client) -> None:
    tokens = redeem(http, sign_in(http)).json()
    response = http.get("/viettelpost/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 401


# --------------------------------------------------------------------------- fault-injection knobs


def test_sign_with_wrong_key_produces_a_token_that_fails_jwks_verification(http: httpx.Client) -> None:
    put_knobs(http, sign_with_wrong_key=True)
    tokens = redeem(http, sign_in(http)).json()
    keys = fetch_jwks(http)

    # The forged token even names the published kid, so only the signature check catches it.
    header = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[0] + "=="))
    assert header["kid"] == keys.keys[0].kid
    with pytest.raises(BadSignatureError):
        jwt.decode(tokens["id_token"], keys, algorithms=["RS256"])


def test_wrong_audience_and_wrong_issuer_produce_validly_signed_but_unacceptable_tokens(
    idp: RunningIdp, http: httpx.Client
) -> None:
    for knob in ("wrong_audience", "wrong_issuer"):
        put_knobs(http, **{"wrong_audience": False, "wrong_issuer": False, knob: True})
        login = sign_in(http)
        token = jwt.decode(redeem(http, login).json()["id_token"], fetch_jwks(http), algorithms=["RS256"])
        with pytest.raises(InvalidClaimError):
            claims_registry(idp.issuer(), VNPOST_CLIENT, login.params["nonce"]).validate(token.claims)


def test_clock_skew_shifts_iat_and_exp_to_make_expired_tokens(idp: RunningIdp, http: httpx.Client) -> None:
    put_knobs(http, clock_skew_seconds=-3600)
    login = sign_in(http)
    token = jwt.decode(redeem(http, login).json()["id_token"], fetch_jwks(http), algorithms=["RS256"])

    assert token.claims["iat"] < time.time() - 3500
    with pytest.raises(ExpiredTokenError):
        claims_registry(idp.issuer(), VNPOST_CLIENT, login.params["nonce"]).validate(token.claims)


def test_id_token_ttl_knob_sets_the_lifetime(http: httpx.Client) -> None:
    put_knobs(http, id_token_ttl=30)
    token = jwt.decode(redeem(http, sign_in(http)).json()["id_token"], fetch_jwks(http), algorithms=["RS256"])
    assert token.claims["exp"] - token.claims["iat"] == 30


def test_error_rate_one_makes_every_back_channel_call_fail_with_503(http: httpx.Client) -> None:
    login = sign_in(http)  # the browser-facing pages are not affected
    put_knobs(http, error_rate=1)

    for response in (
        http.get("/vnpost/.well-known/openid-configuration"),
        http.get("/vnpost/jwks"),
        redeem(http, login),
    ):
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"


def test_latency_knob_delays_responses(http: httpx.Client) -> None:
    put_knobs(http, latency_ms=300)
    started = time.monotonic()
    assert http.get("/vnpost/jwks").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_config_reports_current_knobs_and_rejects_invalid_values(http: httpx.Client) -> None:
    defaults = http.get("/_idp/config").json()
    assert {
        k: defaults[k]
        for k in (
            "latency_ms",
            "error_rate",
            "id_token_ttl",
            "clock_skew_seconds",
            "sign_with_wrong_key",
            "wrong_audience",
            "wrong_issuer",
        )
    } == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "id_token_ttl": 300,
        "clock_skew_seconds": 0,
        "sign_with_wrong_key": False,
        "wrong_audience": False,
        "wrong_issuer": False,
    }

    for bad in (
        {"error_rate": 2},
        {"latency_ms": -1},
        {"wrong_issuer": "yes"},
        {"id_token_ttl": 0},
        {"no_such_knob": 1},
        {"latency_ms": 10, "error_rate": "x"},
    ):
        response = http.put("/_idp/config", json=bad)
        assert response.status_code == 400, bad
        assert "error" in response.json()
    assert http.get("/_idp/config").json() == defaults  # nothing half-applied

    assert put_knobs(http, latency_ms=5)["latency_ms"] == 5
    assert http.get("/_idp/config").json()["error_rate"] == 0.0  # partial update keeps the rest


def test_users_added_at_runtime_can_sign_in_until_reset(http: httpx.Client) -> None:
    new_user = {"sub": "u-900", "email": "thu.vo@vnpost.vn", "name": "Võ Thị Thu", "password": "s3cret"}

    created = http.post("/_idp/vnpost/users", json=new_user)
    assert created.status_code == 201
    assert "password" not in created.json()
    tokens = redeem(http, sign_in(http, user=new_user)).json()
    assert jwt.decode(tokens["id_token"], fetch_jwks(http)).claims["sub"] == "u-900"

    assert http.post("/_idp/vnpost/users", json=new_user).status_code == 409
    assert http.post("/_idp/vnpost/users", json={"email": "x@vnpost.vn"}).status_code == 400
    assert http.post("/_idp/acme/users", json=new_user).status_code == 404

    put_knobs(http, latency_ms=1)
    reset = http.post("/_idp/reset")
    assert reset.status_code == 200
    assert reset.json()["latency_ms"] == 0
    _, challenge = make_pkce()
    url = str(http.base_url.join(httpx.URL("/vnpost/authorize", params=authorize_params(challenge))))
    assert submit_login(http, url, new_user["email"], new_user["password"]).status_code == 200


# --------------------------------------------------------------------------- logout


def test_logout_redirects_only_to_a_registered_post_logout_uri(http: httpx.Client) -> None:
    ok = http.get("/vnpost/logout", params={"post_logout_redirect_uri": f"{PORTAL}/", "state": "bye"})
    assert ok.status_code == 302
    assert ok.headers["location"] == f"{PORTAL}/?state=bye"

    bad = http.get("/vnpost/logout", params={"post_logout_redirect_uri": "https://attacker.example/"})
    assert bad.status_code == 400
    assert "location" not in bad.headers


# --------------------------------------------------------------------------- a standard client


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_oauth2_client_interoperates(idp: RunningIdp, http: httpx.Client, auth_method: str) -> None:
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oidc.core import CodeIDToken

    meta = http.get("/vnpost/.well-known/openid-configuration").json()
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    with OAuth2Client(
        client_id=VNPOST_CLIENT,
        client_secret=VNPOST_SECRET,
        scope="openid email profile",
        redirect_uri=VNPOST_REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    ) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        # The "browser" follows the URL and signs in.
        response = submit_login(http, url, LAN["email"], LAN["password"])
        assert response.status_code == 302
        token = client.fetch_token(
            meta["token_endpoint"],
            authorization_response=response.headers["location"],
            state=state,
            code_verifier=verifier,
        )
        userinfo = client.get(meta["userinfo_endpoint"]).json()

    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json()))
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={
            "iss": {"essential": True, "value": meta["issuer"]},
            "aud": {"essential": True, "value": VNPOST_CLIENT},
        },
        params={"nonce": nonce, "client_id": VNPOST_CLIENT, "access_token": token["access_token"]},
    )
    claims.validate()  # includes nonce and at_hash checks
    assert claims["sub"] == userinfo["sub"] == LAN["sub"]


# --------------------------------------------------------------------------- configuration


def test_tenants_come_from_inline_json_or_a_file(tmp_path: Path) -> None:
    document = {
        "bidv": {
            "clients": [
                {
                    "client_id": "portal-bidv",
                    "client_secret": "s",
                    "redirect_uris": ["http://127.0.0.1:8000/auth/sso/bidv/callback"],
                }
            ],
            "users": [{"sub": "b-1", "email": "an@bidv.vn", "name": "An", "password": "pw"}],
        }
    }
    inline = IdpConfig.from_env({"IDP_TENANTS": json.dumps(document), "IDP_PUBLIC_URL": "http://idp.test:9000/"})
    assert list(inline.tenants) == ["bidv"]
    assert inline.issuer("bidv") == "http://idp.test:9000/bidv"
    assert inline.tenants["bidv"].client("portal-bidv").redirect_uris == (
        "http://127.0.0.1:8000/auth/sso/bidv/callback",
    )

    path = tmp_path / "tenants.json"
    path.write_text(json.dumps({"mobifone": document["bidv"]}), encoding="utf-8")
    from_file = IdpConfig.from_env({"IDP_TENANTS_FILE": str(path), "IDP_TENANTS": json.dumps(document)})
    assert list(from_file.tenants) == ["mobifone"]  # the file wins

    defaults = IdpConfig.from_env({})
    assert defaults.public_url == "http://127.0.0.1:8200"
    assert sorted(defaults.tenants) == ["viettelpost", "vnpost"]
    for name, tenant in defaults.tenants.items():
        (client,) = tenant.clients
        assert client.client_id == f"portal-{name}"
        assert client.client_secret == f"portal-{name}-secret"
        assert client.redirect_uris == (f"http://127.0.0.1:8000/auth/sso/{name}/callback",)
        assert len(tenant.users) == 2


def test_clients_can_be_registered_on_the_default_tenants_keeping_their_users() -> None:
    """What `portal demo` does: register its own redirect URIs, keep the simulator's demo users."""
    clients = {
        "viettelpost": [
            {
                "client_id": "portal-viettelpost",
                "client_secret": "s",
                "redirect_uris": ["http://127.0.0.1:9999/auth/sso/vtpost/callback"],
            }
        ]
    }
    config = IdpConfig.from_env({"IDP_CLIENTS": json.dumps(clients)})
    (client,) = config.tenants["viettelpost"].clients
    assert client.redirect_uris == ("http://127.0.0.1:9999/auth/sso/vtpost/callback",)
    assert [u.email for u in config.tenants["viettelpost"].users] == [
        "hoa.le@viettelpost.com.vn",
        "duc.pham@viettelpost.com.vn",
    ]
    (untouched,) = config.tenants["vnpost"].clients
    assert untouched.redirect_uris == ("http://127.0.0.1:8000/auth/sso/vnpost/callback",)
    with pytest.raises(ConfigError, match="not configured"):
        IdpConfig.from_env({"IDP_CLIENTS": json.dumps({"acme": clients["viettelpost"]})})
    with pytest.raises(ConfigError, match="not valid JSON"):
        IdpConfig.from_env({"IDP_CLIENTS": "{"})


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"_idp": {"clients": []}}, id="reserved-name"),
        pytest.param({"acme": {"clients": []}}, id="no-clients"),
        pytest.param({"acme": {"clients": [{"client_id": "c", "client_secret": "s"}]}}, id="no-redirect-uris"),
        pytest.param(
            {
                "acme": {
                    "clients": [{"client_id": "c", "client_secret": "s", "redirect_uris": ["x"]}],
                    "users": [{"sub": "1", "email": "a@b"}],
                }
            },
            id="user-without-password",
        ),
    ],
)
def test_malformed_tenants_document_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        IdpConfig.from_env({"IDP_TENANTS": json.dumps(document)})


def test_keys_dir_keeps_the_signing_key_across_restarts(tmp_path: Path) -> None:
    first = create_app(IdpConfig(keys_dir=tmp_path)).state.idp.keys.jwks("vnpost")
    second = create_app(IdpConfig(keys_dir=tmp_path)).state.idp.keys.jwks("vnpost")

    assert first == second
    key_file = tmp_path / "vnpost.jwk.json"
    assert key_file.stat().st_mode & 0o077 == 0, "the private key file must not be group/world readable"


def test_python_dash_m_serves_issuers_at_the_given_port() -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    repo_root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.idp", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=repo_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                meta = httpx.get(f"http://127.0.0.1:{port}/vnpost/.well-known/openid-configuration", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        assert meta.json()["issuer"] == f"http://127.0.0.1:{port}/vnpost"
    finally:
        process.terminate()
        process.wait(timeout=10)
