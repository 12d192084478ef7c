"""Single sign-on per partner, driven end to end against the real IdP simulator over HTTP.

The portal runs in-process (TestClient); the identity provider runs as a real
uvicorn server on a free local port. The browser's part is played by hand:
the portal's redirect is followed to the IdP with httpx, the IdP's login form
is posted, and the IdP's redirect back (with the code) is handed to the
portal's callback. Token, JWKS and discovery calls go from the portal to the
IdP over real HTTP.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, text

from agents.partners import sso
from agents.partners.models import Partner, PartnerStatus
from agents.staff import lifecycle
from agents.staff.actor import Actor
from agents.staff.models import Account, AccountStatus, Invitation, Role, RoleAssignment
from portal.auth import oidc
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.tenancy import Scope
from simulators.idp import IdpConfig
from simulators.idp.app import create_app as create_idp_app
from simulators.idp.config import parse_tenants
from tests.factories import create_partner, create_person, create_point, setup_scope
from tests.servers import serve_in_thread

TENANT = "acme"
CLIENT_ID = "portal-acme"
CLIENT_SECRET = "acme-client-secret-for-tests"
IDP_PASSWORD = "idp-password"


# --------------------------------------------------------------------------- harness


@dataclass
class SsoWorld:
    issuer: str
    idp_url: str
    main: Partner  # active, SSO configured
    paused: Partner  # SSO configured, then suspended
    later: Partner  # SSO configured; a test suspends it in the middle of a sign-in
    plain: Partner  # active, no SSO
    point: Any
    admin: Actor
    manager: Actor

    def callback_url(self, partner: Partner) -> str:
        return redirect_uri_for(partner)

    def add_idp_user(self, *, email: str | None = None, email_verified: bool = True) -> dict[str, Any]:
        user = {
            "sub": f"sub-{uuid.uuid4().hex[:12]}",
            "email": email or f"sso-{uuid.uuid4().hex[:10]}@acme.test",
            "name": "Trần Thị SSO",
            "password": IDP_PASSWORD,
            "email_verified": email_verified,
        }
        httpx.post(f"{self.idp_url}/_idp/{TENANT}/users", json=user, timeout=10).raise_for_status()
        return user

    def knobs(self, **values: Any) -> None:
        httpx.put(f"{self.idp_url}/_idp/config", json=values, timeout=10).raise_for_status()


def redirect_uri_for(partner: Partner) -> str:
    from portal.core.settings import get_settings

    return f"{get_settings().web.public_url.rstrip('/')}/auth/sso/{partner.code.lower()}/callback"


@pytest.fixture(scope="module")
def world() -> Iterator[SsoWorld]:
    main = create_partner(name="Đối tác Một SSO")
    paused = create_partner(name="Đối tác Tạm dừng SSO")
    later = create_partner(name="Đối tác Giữa chừng SSO")
    plain = create_partner(name="Đối tác Không SSO")
    point = create_point(main)
    admin = create_person((Role.center_admin, None, None), name="Quản trị Trung tâm")
    manager = create_person((Role.partner_manager, main, None), name="Quản lý Đối tác Một")
    create_person((Role.partner_manager, later, None), name="Quản lý Giữa chừng")  # keeps `later` realistic
    tenants = parse_tenants(
        {
            TENANT: {
                "display_name": "ACME Identity",
                "clients": [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        # Exactly what the portal sends: {PORTAL_PUBLIC_URL}/auth/sso/{code}/callback.
                        "redirect_uris": [redirect_uri_for(p) for p in (main, paused, later)],
                    }
                ],
                "users": [],
            }
        }
    )
    with serve_in_thread(lambda url: create_idp_app(IdpConfig(public_url=url, tenants=tenants))) as (base_url, _):
        issuer = f"{base_url}/{TENANT}"
        with unit_of_work(admin.network_scope("tests configure SSO")) as session:
            for partner in (main, paused, later):
                sso.configure_sso(session, admin, partner.id, issuer, CLIENT_ID, CLIENT_SECRET)
        with unit_of_work(setup_scope()) as session:
            row = session.get(Partner, paused.id)
            row.status, row.status_reason = PartnerStatus.suspended, "Chưa gia hạn hợp đồng"
            session.flush()
        oidc.clear_caches()
        yield SsoWorld(issuer, base_url, main, paused, later, plain, point, admin, manager)
    oidc.clear_caches()


@pytest.fixture(autouse=True)
def _fresh_idp(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "world" in request.fixturenames:
        world: SsoWorld = request.getfixturevalue("world")
        httpx.post(f"{world.idp_url}/_idp/reset", timeout=10).raise_for_status()


# --------------------------------------------------------------------------- the browser's part


def begin(client: Any, world: SsoWorld, partner: Partner, next_path: str = "") -> str:
    """Portal → IdP: the authorization URL the portal redirects the browser to."""
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    response = client.get(f"/auth/sso/{partner.code.lower()}{query}", follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(f"{world.issuer}/authorize?")
    return location


def login_at_idp(authorize_url: str, email: str, password: str = IDP_PASSWORD) -> str:
    """Show the IdP's login form and post it; the redirect back to the portal (with code and state)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        form_page = browser.get(authorize_url)
        assert form_page.status_code == 200, form_page.text
        packed = html.unescape(re.search(r'name="request" value="([^"]*)"', form_page.text).group(1))
        action = authorize_url.split("?", 1)[0]
        answer = browser.post(action, data={"request": packed, "email": email, "password": password})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def call_back(client: Any, redirect_back: str, **override: str) -> Any:
    """IdP → portal: hand the redirect (path and query) to the in-process portal."""
    parts = urlsplit(redirect_back)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(override)
    return client.get(f"{parts.path}?{urlencode(query)}", follow_redirects=False)


def sso_sign_in(portal: Any, world: SsoWorld, partner: Partner, email: str, next_path: str = "") -> tuple[Any, Any]:
    client = portal().http
    back = login_at_idp(begin(client, world, partner, next_path), email)
    assert back.startswith(world.callback_url(partner) + "?")
    return client, call_back(client, back)


# --------------------------------------------------------------------------- reading back


def network() -> Scope:
    return Scope.network("test reads back", actor_label="test")


def last_seq() -> int:
    with unit_of_work(network()) as session:
        return session.scalar(select(func.max(AuditEvent.seq))) or 0


def events_since(seq: int, action: str | None = None) -> list[AuditEvent]:
    with unit_of_work(network()) as session:
        query = select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def account_by_email(email: str) -> Account | None:
    with unit_of_work(network()) as session:
        return session.scalar(select(Account).where(Account.email == email.lower()))


def count_accounts(email: str) -> int:
    with unit_of_work(network()) as session:
        return session.scalar(select(func.count()).select_from(Account).where(Account.email == email.lower()))


def roles_of(account_id: uuid.UUID) -> list[tuple[Role, uuid.UUID | None, uuid.UUID | None]]:
    with unit_of_work(network()) as session:
        rows = session.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account_id))
        return sorted(((r.role, r.partner_id, r.agent_point_id) for r in rows), key=str)


def invite(world: SsoWorld, email: str, role: Role = Role.agent_staff) -> Invitation:
    with unit_of_work(world.manager.partner_scope(world.main.id)) as session:
        invitation, _token = lifecycle.invite(
            session,
            world.manager,
            email=email,
            full_name="Người Được Mời",
            role=role,
            partner_id=world.main.id,
            agent_point_id=world.point.id if role.is_point else None,
        )
        return invitation


def invitation_is_open(invitation_id: uuid.UUID) -> bool:
    with unit_of_work(network()) as session:
        return session.get(Invitation, invitation_id).accepted_at is None


def assert_refused(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert html.escape(message, quote=False) in response.text or message in html.unescape(response.text)


def assert_signed_out(client: Any) -> None:
    response = client.get("/dossiers", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


# --------------------------------------------------------------------------- tests


def test_login_page_offers_sso_of_each_active_configured_partner(portal: Any, world: SsoWorld) -> None:
    client = portal().http
    login = client.get("/login")
    assert "Đăng nhập bằng SSO của đối tác" in login.text
    assert f'href="/auth/sso/{world.main.code.lower()}"' in login.text
    assert world.paused.name not in login.text and world.plain.name not in login.text
    chooser = client.get("/auth/sso")
    assert chooser.status_code == 200
    assert f'href="/auth/sso/{world.main.code.lower()}"' in chooser.text
    with_next = client.get("/auth/sso?next=/dossiers/new")
    assert f'href="/auth/sso/{world.main.code.lower()}?next=/dossiers/new"' in with_next.text
    assert world.main.name in chooser.text
    assert world.paused.name not in chooser.text  # suspended
    assert world.plain.name not in chooser.text  # no SSO configured
    with unit_of_work(network()) as session:
        listed = {p.id for p in sso.partners_with_sso(session)}
    assert world.main.id in listed and world.paused.id not in listed and world.plain.id not in listed


def test_start_redirects_to_the_idp_with_pkce_state_and_nonce(portal: Any, world: SsoWorld) -> None:
    url = begin(portal().http, world, world.main)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == world.callback_url(world.main)
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert "openid" in query["scope"].split()
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert CLIENT_SECRET not in url


def test_invited_email_signs_in_with_exactly_the_invited_role_and_is_reused_next_time(
    portal: Any, world: SsoWorld
) -> None:
    user = world.add_idp_user()
    invitation = invite(world, user["email"], Role.agent_staff)
    mark = last_seq()

    client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == "/dossiers"
    assert client.get("/dossiers").status_code == 200
    account = account_by_email(user["email"])
    assert account is not None
    assert (account.sso_issuer, account.sso_subject) == (world.issuer, user["sub"])
    assert account.password_hash is None and account.status is AccountStatus.active
    assert account.full_name == "Người Được Mời"
    assert roles_of(account.id) == [(Role.agent_staff, world.main.id, world.point.id)]
    assert not invitation_is_open(invitation.id)
    actions = [e.action for e in events_since(mark)]
    assert actions == ["account.activated", "auth.sign_in"]
    sign_in = events_since(mark, "auth.sign_in")[0]
    assert sign_in.detail["via"] == "sso" and sign_in.actor_id == account.id
    assert sign_in.partner_id == world.main.id

    # A second sign-in, from another browser: the same account, nothing new.
    mark = last_seq()
    _other, again = sso_sign_in(portal, world, world.main, user["email"])
    assert again.status_code in (302, 303) and again.headers["location"] == "/dossiers"
    assert count_accounts(user["email"]) == 1
    assert roles_of(account.id) == [(Role.agent_staff, world.main.id, world.point.id)]
    assert [e.action for e in events_since(mark)] == ["auth.sign_in"]
    assert events_since(mark)[0].actor_id == account.id


@pytest.mark.parametrize(
    ("asked", "landing"),
    [
        ("/dossiers/new", "/dossiers/new"),
        ("//evil.example/x", "/dossiers"),
        ("/\\evil.example", "/dossiers"),
        ("https://evil.example/", "/dossiers"),
    ],
)
def test_return_path_is_honoured_only_when_local(portal: Any, world: SsoWorld, asked: str, landing: str) -> None:
    user = world.add_idp_user()
    invite(world, user["email"])
    _client, response = sso_sign_in(portal, world, world.main, user["email"], next_path=asked)
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"] == landing


def test_an_existing_account_is_never_taken_over_through_a_partners_provider(portal: Any, world: SsoWorld) -> None:
    """A partner's IdP vouching for someone's email must not link that person's account (it may hold
    center roles, or roles at other partners): they accept the invitation signed in as themselves."""
    elsewhere = create_partner(name="Đối tác Khác")
    person = create_person((Role.agent_staff, elsewhere, create_point(elsewhere)))
    world.add_idp_user(email=person.email)
    invite(world, person.email, Role.partner_manager)

    client, response = sso_sign_in(portal, world, world.main, person.email)

    assert_refused(response, 403, "Email này đã có tài khoản trên cổng")
    account = account_by_email(person.email)
    assert (account.sso_issuer, account.sso_subject) == (None, None)
    assert {(r, p) for r, p, _ in roles_of(account.id)} == {(Role.agent_staff, elsewhere.id)}
    assert_signed_out(client)


def test_uninvited_email_is_refused_with_an_audit_entry_and_no_account(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    mark = last_seq()

    client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert_refused(response, 403, "Tài khoản SSO chưa được mời")
    assert account_by_email(user["email"]) is None
    events = events_since(mark)
    assert [e.action for e in events] == ["auth.sso_failed"]
    assert events[0].detail["reason"] == "not_invited"
    assert events[0].detail["email"] == user["email"] and events[0].detail["subject"] == user["sub"]
    assert events[0].partner_id == world.main.id
    assert_signed_out(client)


def test_invitation_needs_a_verified_email(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user(email_verified=False)
    invitation = invite(world, user["email"])
    mark = last_seq()

    _client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert_refused(response, 403, "Email của tài khoản SSO chưa được xác minh")
    assert account_by_email(user["email"]) is None
    assert invitation_is_open(invitation.id)
    assert [e.detail["reason"] for e in events_since(mark)] == ["email_not_verified"]


def test_tampered_state_is_refused(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    invitation = invite(world, user["email"])
    client = portal().http
    back = login_at_idp(begin(client, world, world.main), user["email"])
    mark = last_seq()

    state = parse_qs(urlsplit(back).query)["state"][0]
    # One character changed (a random state starts with "x" one time in 64).
    response = call_back(client, back, state=("y" if state[0] == "x" else "x") + state[1:])

    assert_refused(response, 400, "Yêu cầu đăng nhập SSO không hợp lệ hoặc đã hết hạn; vui lòng thử lại")
    assert account_by_email(user["email"]) is None and invitation_is_open(invitation.id)
    events = events_since(mark)
    assert [(e.action, e.detail["reason"]) for e in events] == [("auth.sso_failed", "state_mismatch")]
    # The pending sign-in was used up: replaying the genuine response does not work either.
    assert call_back(client, back).status_code == 400
    assert account_by_email(user["email"]) is None


def test_a_non_ascii_state_is_refused_like_any_tampered_state(portal: Any, world: SsoWorld) -> None:
    """The state is compared as bytes: text compare_digest fails (500) on non-ASCII."""
    user = world.add_idp_user()
    client = portal().http
    back = login_at_idp(begin(client, world, world.main), user["email"])

    response = call_back(client, back, state="é" * 43)

    assert_refused(response, 400, "Yêu cầu đăng nhập SSO không hợp lệ hoặc đã hết hạn; vui lòng thử lại")


def test_callback_without_a_started_sign_in_is_refused(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    invite(world, user["email"])
    back = login_at_idp(begin(portal().http, world, world.main), user["email"])

    response = call_back(portal().http, back)  # another browser: no pending sign-in in its cookie

    assert_refused(response, 400, "Yêu cầu đăng nhập SSO không hợp lệ hoặc đã hết hạn; vui lòng thử lại")
    assert account_by_email(user["email"]) is None


@pytest.mark.parametrize(
    ("knobs", "reason", "message"),
    [
        ({"sign_with_wrong_key": True}, "bad_signature", "Chữ ký của mã định danh (ID token) không hợp lệ"),
        ({"wrong_audience": True}, "wrong_audience", "Mã định danh không dành cho cổng này"),
        ({"wrong_issuer": True}, "wrong_issuer", "Mã định danh không do hệ thống đăng nhập của đối tác phát hành"),
        ({"clock_skew_seconds": -3600}, "expired", "Mã định danh (ID token) đã hết hạn; vui lòng đăng nhập lại"),
        ({"clock_skew_seconds": 3600}, "bad_time", "Thời điểm phát hành mã định danh không hợp lệ (lệch giờ)"),
    ],
    ids=["forged-signature", "wrong-audience", "wrong-issuer", "expired", "issued-in-the-future"],
)
def test_untrustworthy_id_token_is_refused(
    portal: Any, world: SsoWorld, knobs: dict[str, Any], reason: str, message: str
) -> None:
    user = world.add_idp_user()
    invitation = invite(world, user["email"])
    world.knobs(**knobs)
    mark = last_seq()

    client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert_refused(response, 401, message)
    assert account_by_email(user["email"]) is None
    assert invitation_is_open(invitation.id)
    events = events_since(mark)
    assert [(e.action, e.detail["reason"]) for e in events] == [("auth.sso_failed", reason)]
    assert_signed_out(client)


def test_small_clock_skew_is_tolerated(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    invite(world, user["email"])
    world.knobs(clock_skew_seconds=20)  # the IdP's clock runs 20 s ahead: within the leeway

    _client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert response.status_code in (302, 303), response.text
    assert account_by_email(user["email"]) is not None


def test_suspended_partner_is_refused_before_the_idp(portal: Any, world: SsoWorld) -> None:
    mark = last_seq()
    response = portal().http.get(f"/auth/sso/{world.paused.code.lower()}", follow_redirects=False)
    assert_refused(response, 403, f"Đối tác {world.paused.name} đang bị tạm dừng: Chưa gia hạn hợp đồng")
    events = events_since(mark)
    assert [(e.action, e.detail["reason"], e.partner_id) for e in events] == [
        ("auth.sso_failed", "partner_suspended", world.paused.id)
    ]


def test_partner_without_sso_is_refused(portal: Any, world: SsoWorld) -> None:
    mark = last_seq()
    response = portal().http.get(f"/auth/sso/{world.plain.code.lower()}", follow_redirects=False)
    assert_refused(response, 403, "Đối tác này chưa bật đăng nhập SSO")
    assert [e.detail["reason"] for e in events_since(mark)] == ["sso_not_configured"]


def test_unknown_partner_is_not_found(portal: Any, world: SsoWorld) -> None:
    response = portal().http.get("/auth/sso/no-such-partner", follow_redirects=False)
    assert_refused(response, 404, "Không tìm thấy đối tác")


def test_partner_suspended_during_the_sign_in_is_refused(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    client = portal().http
    back = login_at_idp(begin(client, world, world.later), user["email"])
    with unit_of_work(setup_scope()) as session:
        row = session.get(Partner, world.later.id)
        row.status, row.status_reason = PartnerStatus.suspended, "Tạm dừng để kiểm tra"
        session.flush()
    mark = last_seq()
    try:
        response = call_back(client, back)
    finally:
        with unit_of_work(setup_scope()) as session:
            row = session.get(Partner, world.later.id)
            row.status, row.status_reason = PartnerStatus.active, None
            session.flush()
    assert_refused(response, 403, "đang bị tạm dừng: Tạm dừng để kiểm tra")
    assert [e.detail["reason"] for e in events_since(mark)] == ["partner_suspended"]
    assert account_by_email(user["email"]) is None


def test_deactivated_account_is_refused_and_sees_the_reason(portal: Any, world: SsoWorld) -> None:
    user = world.add_idp_user()
    invite(world, user["email"])
    _client, first = sso_sign_in(portal, world, world.main, user["email"])
    assert first.status_code in (302, 303), first.text
    account = account_by_email(user["email"])
    with unit_of_work(world.manager.partner_scope(world.main.id)) as session:
        lifecycle.deactivate(session, world.manager, account.id, "Đã nghỉ việc từ 01/07")
    mark = last_seq()

    client, response = sso_sign_in(portal, world, world.main, user["email"])

    assert_refused(response, 403, "Tài khoản đã bị khóa: Đã nghỉ việc từ 01/07")
    events = events_since(mark)
    assert [(e.action, e.detail["reason"], e.actor_id) for e in events] == [
        ("auth.sso_failed", "deactivated", account.id)
    ]
    assert account_by_email(user["email"]).status is AccountStatus.deactivated
    assert_signed_out(client)


def test_unreachable_idp_is_a_clear_refusal(portal: Any, world: SsoWorld) -> None:
    world.knobs(error_rate=1.0)  # every back-channel call (discovery, JWKS, token) answers 503
    oidc.clear_caches()
    mark = last_seq()
    try:
        response = portal().http.get(f"/auth/sso/{world.main.code.lower()}", follow_redirects=False)
    finally:
        world.knobs(error_rate=0.0)
    assert_refused(response, 503, "Không kết nối được tới hệ thống đăng nhập của đối tác; vui lòng thử lại sau")
    assert [e.detail["reason"] for e in events_since(mark)] == ["idp_unreachable"]


def test_only_the_center_configures_sso_and_the_secret_stays_out_of_the_log(world: SsoWorld) -> None:
    target = create_partner(name="Đối tác Cấu hình")
    manager = create_person((Role.partner_manager, target, None))
    with unit_of_work(manager.partner_scope(target.id)) as session, pytest.raises(PermissionDenied):
        sso.configure_sso(session, manager, target.id, world.issuer, "cid", "a-secret")
    with unit_of_work(world.admin.network_scope("tests")) as session, pytest.raises(ValidationFailed) as bad:
        sso.configure_sso(session, world.admin, target.id, "ftp://idp.example", "", "")
    assert set(bad.value.field_errors) == {"issuer", "client_id", "client_secret"}

    mark = last_seq()
    secret = f"top-secret-{uuid.uuid4().hex}"
    with unit_of_work(world.admin.network_scope("tests")) as session:
        sso.configure_sso(session, world.admin, target.id, world.issuer, "cid-1", secret)
    with unit_of_work(world.admin.network_scope("tests")) as session:
        sso.configure_sso(session, world.admin, target.id, world.issuer, "cid-2", "")  # blank keeps the secret
    events = events_since(mark)
    assert [e.action for e in events] == ["partner.sso_configured", "partner.sso_configured"]
    assert events[0].detail["secret_changed"] is True and events[1].detail["secret_changed"] is False
    assert events[1].detail["client_id"] == "cid-2"
    assert all(secret not in json.dumps(e.detail) for e in events)
    with unit_of_work(network()) as session:
        stored = session.get(Partner, target.id)
        assert (stored.oidc_client_id, stored.oidc_client_secret) == ("cid-2", secret)
        raw = session.execute(
            text("SELECT oidc_client_secret FROM partners WHERE code = :c"), {"c": target.code}
        ).scalar()
    assert secret not in raw  # encrypted at rest


def test_relying_party_checks_nonce_and_pkce_verifier_itself(world: SsoWorld) -> None:
    """The same client the portal uses, driven directly: a wrong nonce or verifier never passes."""
    user = world.add_idp_user()
    client = oidc.OidcClient(
        issuer=world.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=world.callback_url(world.main),
    )

    def code_for(started: oidc.AuthorizationRequest) -> str:
        back = login_at_idp(started.url, user["email"])
        return parse_qs(urlsplit(back).query)["code"][0]

    started = client.authorization_request()
    with pytest.raises(oidc.SsoFailed) as wrong_nonce:
        client.complete(
            code=code_for(started),
            code_verifier=started.code_verifier,
            nonce="not-the-nonce-we-sent",
            returned_issuer=world.issuer,
        )
    assert wrong_nonce.value.reason == "nonce_mismatch"

    started = client.authorization_request()
    with pytest.raises(oidc.SsoFailed) as wrong_verifier:
        client.complete(
            code=code_for(started), code_verifier="x" * 64, nonce=started.nonce, returned_issuer=world.issuer
        )
    assert wrong_verifier.value.reason == "token_refused"

    started = client.authorization_request()
    with pytest.raises(oidc.SsoFailed) as mixed_up:
        client.complete(
            code=code_for(started),
            code_verifier=started.code_verifier,
            nonce=started.nonce,
            returned_issuer="https://impostor.invalid/acme",
        )
    assert mixed_up.value.reason == "wrong_issuer"

    started = client.authorization_request()
    identity = client.complete(
        code=code_for(started), code_verifier=started.code_verifier, nonce=started.nonce, returned_issuer=world.issuer
    )
    assert (identity.issuer, identity.subject, identity.email, identity.email_verified) == (
        world.issuer,
        user["sub"],
        user["email"],
        True,
    )
