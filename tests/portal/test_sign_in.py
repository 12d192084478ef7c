"""Signing in tells nobody which emails have accounts, and a lock cannot be turned against the person.

Every failure gets one of two answers and does the same work (one argon2 verification),
whether the email is unknown, the password wrong, the account deactivated or locked.
Failures are budgeted per email and per source; a spent budget refuses new devices, never
the person's own recent device with the right password; a point lead or manager can lift
the lock of their staff, on the record. An invitation link shows nobody whether its email
already has an account.
"""

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from agents.staff import service as staff_service
from agents.staff.models import Account, AccountStatus, Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import PASSWORD, create_partner, create_person, create_point, create_staff

WRONG = "Email hoặc mật khẩu không đúng"
LOCKED = "quá nhiều lần"


def _scope():
    return Scope.network("test", actor_label="test")


def _events(action):
    with read_only(_scope()) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _alert(page: str) -> str:
    found = re.search(r'<div class="alert error" role="alert">(.*?)</div>', page, re.S)
    return found.group(1).strip() if found else ""


def _fail_until_locked(portal, email):
    client = portal()
    for _ in range(get_settings().sign_in.max_failures):
        client.sign_in(email, "a wrong guess")
    return client


@pytest.fixture
def counter():
    partner = create_partner()
    point = create_point(partner)
    return {
        "partner": partner,
        "point": point,
        "staff": create_staff(point, partner),
        "lead": create_person((Role.point_lead, partner, point)),
        "manager": create_person((Role.partner_manager, partner, None)),
    }


def _deactivate(person, reason):
    with unit_of_work(_scope()) as session:
        account = session.get(Account, person.account_id)
        account.status, account.status_reason = AccountStatus.deactivated, reason


def test_a_deactivated_accounts_reason_is_shown_only_after_the_correct_password(portal, counter):
    _deactivate(counter["staff"], "Đã chuyển công tác sang đơn vị khác")

    guess = portal().sign_in(counter["staff"].email, "any password")
    assert guess.status_code == 401 and _alert(guess.text) == WRONG
    assert "chuyển công tác" not in guess.text

    right = portal().sign_in(counter["staff"].email, PASSWORD)
    assert right.status_code == 401 and "Đã chuyển công tác sang đơn vị khác" in _alert(right.text)


def test_an_unknown_email_and_a_real_one_get_the_same_answers_wrong_and_locked(portal, counter):
    real, unknown = counter["staff"].email, "nobody-here@test.vn"
    answers = {}
    for email in (real, unknown):
        client = portal()
        answers[email] = [
            (r.status_code, _alert(r.text)) for r in (client.sign_in(email, "a wrong guess") for _ in range(6))
        ]
    assert answers[real] == answers[unknown]
    assert answers[real][0] == (401, WRONG)
    assert LOCKED in answers[real][-1][1]


class CountingHasher(PasswordHasher):
    verified = 0

    def verify(self, hash, password):  # type: ignore[no-untyped-def]  # noqa: A002
        CountingHasher.verified += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("case", ["unknown", "wrong", "deactivated", "locked", "sso_only", "right"])
def test_every_sign_in_verifies_exactly_one_password_hash(portal, counter, monkeypatch, case):
    person = counter["staff"]
    email, password = person.email, "a wrong guess"
    if case == "unknown":
        email = "nobody-at-all@test.vn"
    if case == "deactivated":
        _deactivate(person, "nghỉ việc")
    if case == "locked":
        _fail_until_locked(portal, email)
    if case == "sso_only":
        with unit_of_work(_scope()) as session:
            session.get(Account, person.account_id).password_hash = None
    if case == "right":
        password = PASSWORD
    monkeypatch.setattr(staff_service, "_hasher", CountingHasher())
    CountingHasher.verified = 0
    portal().sign_in(email, password)
    assert CountingHasher.verified == 1


def test_a_lock_never_refuses_the_right_password_from_the_persons_recent_device(portal, counter):
    email = counter["staff"].email
    own_pc = portal()
    assert own_pc.sign_in(email).status_code in (302, 303)  # the counter PC they use every day
    assert own_pc.post_form("/logout", {}).status_code in (302, 303)

    _fail_until_locked(portal, email)  # someone else, anywhere

    stranger = portal().sign_in(email, PASSWORD)
    assert stranger.status_code == 401 and LOCKED in _alert(stranger.text)
    assert own_pc.sign_in(email, "still a wrong guess").status_code == 401
    assert own_pc.sign_in(email).status_code in (302, 303)
    # A device cookie for another account, or a forged one, does not pass the lock.
    other = portal()
    device = own_pc.http.cookies["portal_device"]
    other.http.cookies.set("portal_device", device[:-1] + ("A" if device[-1] != "A" else "B"))
    assert other.sign_in(email).status_code == 401


def test_one_source_cannot_spread_guesses_over_many_accounts(portal):
    budget = get_settings().sign_in.max_failures_per_source
    client = portal()
    for n in range(budget):
        assert client.sign_in(f"guess-{n}@test.vn", "x").status_code == 401
    partner = create_partner()
    person = create_staff(create_point(partner), partner)
    refused = client.sign_in(person.email, PASSWORD)
    assert refused.status_code == 401 and LOCKED in _alert(refused.text)
    assert portal().sign_in(person.email, PASSWORD).status_code in (302, 303)  # elsewhere: fine


def test_a_point_lead_unlocks_their_staff_on_the_record_and_nobody_else_can(portal, counter):
    email = counter["staff"].email
    _fail_until_locked(portal, email)
    assert portal().sign_in(email).status_code == 401

    other_point = create_point(counter["partner"])
    other_lead = portal()
    other_lead.sign_in(create_person((Role.point_lead, counter["partner"], other_point)).email)
    assert other_lead.post_form(f"/partner/staff/{counter['staff'].account_id}/unlock", {}).status_code == 404
    colleague = portal()
    colleague.sign_in(create_staff(counter["point"], counter["partner"]).email)
    assert colleague.post_form(f"/partner/staff/{counter['staff'].account_id}/unlock", {}).status_code == 404

    lead = portal()
    lead.sign_in(counter["lead"].email)
    page = lead.get("/partner/sign-in-locks")
    assert page.status_code == 200 and email in page.text and "Mở khóa đăng nhập" in page.text
    assert lead.post_form(f"/partner/staff/{counter['staff'].account_id}/unlock", {}).status_code == 200

    assert portal().sign_in(email).status_code in (302, 303)
    (entry,) = [e for e in _events("account.sign_in_unlocked") if e.object_id == str(counter["staff"].account_id)]
    assert entry.actor_id == counter["lead"].account_id and entry.detail == {"was_locked": True}


def test_a_partner_manager_sees_and_lifts_a_lock_from_the_staff_page(portal, counter):
    email = counter["staff"].email
    _fail_until_locked(portal, email)
    manager = portal()
    manager.sign_in(counter["manager"].email)
    assert "Đăng nhập bị tạm khóa" in manager.get("/partner/staff").text
    assert manager.post_form(f"/partner/staff/{counter['staff'].account_id}/unlock", {}).status_code == 200
    assert portal().sign_in(email).status_code in (302, 303)


def test_repeated_identical_sign_in_failures_are_tallied_not_written_each(portal):
    email = "tally-target@test.vn"
    client = portal()
    before = len([e for e in _events("auth.sign_in_failed") if e.detail.get("email") == email])
    for _ in range(3):
        client.sign_in(email, "x")
    written = [e for e in _events("auth.sign_in_failed") if e.detail.get("email") == email]
    assert len(written) - before == 1


def test_an_invitation_does_not_tell_whether_its_email_already_has_an_account(portal):
    partner = create_partner()
    create_point(partner)
    manager = create_person((Role.partner_manager, partner, None))
    center_admin = create_person((Role.center_admin, None, None))
    client = portal()
    client.sign_in(manager.email)

    def invite(email):
        page = client.post_form(
            "/partner/staff/invite",
            {"full_name": "Người Mới", "email": email, "role": "partner_manager", "agent_point_id": ""},
        )
        return re.search(r"<code>https?://[^/]+(/invitations/[^<]+)</code>", page.text).group(1)

    existing_link, new_link = invite(center_admin.email), invite("brand-new-person@test.vn")

    def shown(link, email):
        return client.get(link).text.replace(link, "LINK").replace(email, "EMAIL")

    assert shown(existing_link, center_admin.email) == shown(new_link, "brand-new-person@test.vn")

    password = "another long password"
    answers = [
        client.post_form(link, {"password": password, "password_again": password}) for link in (existing_link, new_link)
    ]
    assert [(a.status_code, a.headers.get("location")) for a in answers] == [(303, "/login?activated=1")] * 2
    # Nothing changed for the existing account: its password is its own.
    assert portal().sign_in(center_admin.email, password).status_code == 401
    assert portal().sign_in(center_admin.email, PASSWORD).status_code in (302, 303)
    assert any(e.actor_label == center_admin.email for e in _events("account.activation_refused"))
