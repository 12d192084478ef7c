"""Sign-in sessions live on the server: signing out (or being shut out) ends them for every copy of the cookie.

The cookie is a random token with a MAC; the database keeps only the token's hash, the idle
timeout and the absolute lifetime. A cookie that was tampered with signs nobody in, is
cleared, never answers 500, and goes on the audit record once however often it comes back.
"""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from agents.staff.models import Role, SignInSession
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work, utcnow
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import PASSWORD, create_partner, create_person, create_point, create_staff


def _scope():
    return Scope.network("test", actor_label="test")


def _events(action):
    with read_only(_scope()) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _signed_in(portal, person):
    client = portal()
    assert client.sign_in(person.email).status_code in (302, 303)
    return client


def _opens_dossiers(client, cookie=None):
    if cookie is not None:
        client.http.cookies.clear()
        client.http.cookies.set("portal_session", cookie)
    return client.get("/dossiers", follow_redirects=False).status_code == 200


def _sessions_of(person):
    with read_only(_scope()) as session:
        return list(session.scalars(select(SignInSession).where(SignInSession.account_id == person.account_id)))


@pytest.fixture
def staff():
    partner = create_partner()
    return create_staff(create_point(partner), partner)


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(portal, staff):
    client = _signed_in(portal, staff)
    copied = client.http.cookies["portal_session"]
    assert _opens_dossiers(portal(), copied)

    assert client.post_form("/logout", {}).status_code in (302, 303)

    thief = portal()
    assert not _opens_dossiers(thief, copied)
    assert thief.get("/dossiers", follow_redirects=False).headers["location"].startswith("/login")
    (row,) = _sessions_of(staff)
    assert row.revoked_reason == "signed_out" and row.revoked_at is not None


def test_the_database_keeps_only_a_hash_of_the_token(portal, staff):
    client = _signed_in(portal, staff)
    token = client.http.cookies["portal_session"].split(".")[0]
    (row,) = _sessions_of(staff)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.user_agent, row.origin}
    assert row.idle_timeout_seconds == get_settings().session.idle_timeout_seconds
    assert row.absolute_lifetime_seconds == get_settings().session.absolute_lifetime_seconds


def test_the_cookie_is_http_only_same_site_lax_and_not_readable_by_scripts(portal, staff):
    client = portal()
    response = client.sign_in(staff.email)
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("portal_session="))
    assert "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax") and "Path=/" in header


def test_signing_out_everywhere_ends_the_sessions_on_other_devices(portal, staff):
    counter_pc, phone = _signed_in(portal, staff), _signed_in(portal, staff)
    assert _opens_dossiers(counter_pc) and _opens_dossiers(phone)
    page = phone.get("/account")
    assert page.status_code == 200 and page.text.count("<tr><td>") == 2

    assert phone.post_form("/logout/everywhere", {}).status_code in (302, 303)

    assert not _opens_dossiers(counter_pc) and not _opens_dossiers(phone)
    assert {row.revoked_reason for row in _sessions_of(staff)} == {"signed_out_everywhere"}
    assert any(e.actor_id == staff.account_id for e in _events("auth.signed_out_everywhere"))


def test_deactivation_ends_the_persons_open_sessions(portal):
    partner = create_partner()
    staff = create_staff(create_point(partner), partner)
    manager = _signed_in(portal, create_person((Role.partner_manager, partner, None)))
    client = _signed_in(portal, staff)
    copied = client.http.cookies["portal_session"]

    response = manager.post_form(f"/partner/staff/{staff.account_id}/deactivate", {"reason": "Nghỉ việc"})
    assert response.status_code in (200, 303)

    assert {row.revoked_reason for row in _sessions_of(staff)} == {"deactivated"}
    assert not _opens_dossiers(portal(), copied)


def test_suspending_the_partner_ends_its_peoples_sessions(portal):
    partner = create_partner()
    staff = create_staff(create_point(partner), partner)
    client = _signed_in(portal, staff)
    center = _signed_in(portal, create_person((Role.center_admin, None, None)))

    response = center.post_form(
        f"/center/partners/{partner.id}/status", {"status": "suspended", "reason": "Vi phạm hợp đồng"}
    )
    assert response.status_code in (200, 303)

    assert {row.revoked_reason for row in _sessions_of(staff)} == {"partner_suspended"}
    assert not _opens_dossiers(client)


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(portal, staff):
    other_device, this_device = _signed_in(portal, staff), _signed_in(portal, staff)
    new_password = "a much longer new password"

    wrong = this_device.post_form("/account/password", {"current_password": "nope", "password": new_password})
    assert wrong.status_code == 422 and _opens_dossiers(other_device)

    done = this_device.post_form("/account/password", {"current_password": PASSWORD, "password": new_password})
    assert done.status_code == 200

    assert _opens_dossiers(this_device) and not _opens_dossiers(other_device)
    assert portal().sign_in(staff.email, new_password).status_code in (302, 303)
    assert any(e.object_id == str(staff.account_id) for e in _events("account.password_changed"))


def _age_session(person, **columns):
    with unit_of_work(_scope()) as session:
        session.execute(update(SignInSession).where(SignInSession.account_id == person.account_id).values(**columns))


def test_a_session_left_idle_longer_than_the_idle_timeout_has_ended(portal, staff):
    client = _signed_in(portal, staff)
    idle = get_settings().session.idle_timeout_seconds
    _age_session(staff, last_seen_at=utcnow() - timedelta(seconds=idle - 90))
    assert _opens_dossiers(client)  # in use: the idle clock starts again

    _age_session(staff, last_seen_at=utcnow() - timedelta(seconds=idle + 1))
    assert not _opens_dossiers(client)


def test_a_session_in_constant_use_still_ends_at_its_absolute_lifetime(portal, staff):
    client = _signed_in(portal, staff)
    lifetime = get_settings().session.absolute_lifetime_seconds
    _age_session(staff, created_at=utcnow() - timedelta(seconds=lifetime - 60), last_seen_at=utcnow())
    assert _opens_dossiers(client)

    _age_session(staff, created_at=utcnow() - timedelta(seconds=lifetime + 1), last_seen_at=utcnow())
    assert not _opens_dossiers(client)


def test_a_tampered_cookie_is_no_session_is_cleared_and_is_recorded_once(portal, staff):
    client = _signed_in(portal, staff)
    cookie = client.http.cookies["portal_session"]
    tampered = cookie[:-1] + ("A" if cookie[-1] != "A" else "B")
    before = len(_events("security.session_cookie_rejected"))

    stranger = portal()
    for _ in range(3):
        stranger.http.cookies.clear()
        stranger.http.cookies.set("portal_session", tampered)
        response = stranger.get("/dossiers", follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
        cleared = [h for h in response.headers.get_list("set-cookie") if h.startswith("portal_session=")]
        assert cleared and "Max-Age=0" in cleared[0]

    assert len(_events("security.session_cookie_rejected")) == before + 1


@pytest.mark.parametrize(
    "value",
    ["x", "a" * 43 + "." + "b" * 32, "A" * 4000, "%FF%FE", "...", "eyJhbGciOiJub25lIn0.e30.", "null"],
)
def test_any_cookie_value_answers_like_no_session_never_500(portal, value):
    client = portal()
    client.http.cookies.set("portal_session", value)
    for url in ("/", "/login", "/dossiers", "/track"):
        assert client.get(url, follow_redirects=False).status_code in (200, 302, 400)
