"""Access: each partner sees only its own (other partners' objects answer 404, exactly like
objects that do not exist), each role is refused what it must not do, and refusals of
hostile requests go on the audit record."""

import uuid

import pytest
from sqlalchemy import select

from agents.points.models import AgentPointStatus
from agents.staff.models import Role, RoleAssignment
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import (
    PASSWORD,
    citizen,
    create_partner,
    create_person,
    create_point,
    create_staff,
    ensure_procedures,
    file_birth_registration,
    setup_scope,
)


@pytest.fixture(scope="module")
def world():
    ensure_procedures()
    a, b = create_partner(name="Đối tác A"), create_partner(name="Đối tác B")
    point_a, point_b = create_point(a), create_point(b)
    staff_a, staff_b = create_staff(point_a, a), create_staff(point_b, b)
    with unit_of_work(setup_scope()) as session:
        assignment_b = session.scalar(select(RoleAssignment).where(RoleAssignment.account_id == staff_b.account_id))
    return {
        "a": a,
        "b": b,
        "point_a": point_a,
        "point_b": point_b,
        "staff_b": staff_b,
        "assignment_b": assignment_b,
        "dossier_b": file_birth_registration(staff_b, point_b),
        "staff": staff_a,
        "lead": create_person((Role.point_lead, a, point_a)),
        "manager": create_person((Role.partner_manager, a, None)),
        "admin": create_person((Role.center_admin, None, None)),
        "auditor": create_person((Role.auditor, None, None)),
    }


def _as(portal, person):
    client = portal()
    assert client.sign_in(person.email).status_code in (302, 303)
    return client


def _cross_partner_requests(world):
    """Every URL of the portal that takes an id, aimed at partner B's objects."""
    d, acc, asg, pt = world["dossier_b"].id, world["staff_b"].account_id, world["assignment_b"].id, world["point_b"].id
    filing = {**citizen(), "idempotency_key": uuid.uuid4().hex, "agent_point_id": str(pt)}
    return [
        ("GET", f"/dossiers/{d}", None),
        ("GET", f"/dossiers/{d}/receipt", None),
        ("GET", f"/api/v1/dossiers/{d}", None),
        ("FORM", "/dossiers/new/1.001193", filing),
        (
            "JSON",
            "/api/v1/dossiers",
            {
                "procedure_code": "1.001193",
                "agent_point_id": str(pt),
                "idempotency_key": uuid.uuid4().hex,
                "citizen": citizen(),
                "form": {},
            },
        ),
        ("FORM", f"/partner/staff/{acc}/deactivate", {"reason": "thử"}),
        ("FORM", f"/partner/staff/{acc}/reactivate", {}),
        ("FORM", f"/partner/roles/{asg}", {"role": "agent_staff", "agent_point_id": str(pt)}),
    ]


def _send(client, method, url, body):
    if method == "GET":
        return client.get(url)
    if method == "JSON":
        return client.post_json(url, body)
    return client.post_form(url, body)


def _swap_ids(url, body, world):
    """The same request aimed at ids that exist nowhere."""
    for known in (world["dossier_b"].id, world["staff_b"].account_id, world["assignment_b"].id, world["point_b"].id):
        url = url.replace(str(known), str(uuid.uuid4()))
        if body:
            body = {k: (str(uuid.uuid4()) if v == str(known) else v) for k, v in body.items()}
    return url, body


@pytest.mark.parametrize("who", ["staff", "lead", "manager"])
def test_another_partners_objects_answer_exactly_like_missing_ones(portal, world, who):
    client = _as(portal, world[who])
    for method, url, body in _cross_partner_requests(world):
        foreign = _send(client, method, url, body)
        missing = _send(client, method, *_swap_ids(url, body, world))
        assert foreign.status_code == 404, (who, method, url, foreign.status_code, foreign.text[:300])
        assert missing.status_code == 404, (who, method, url)
        assert foreign.text == missing.text, (who, method, url)  # not a byte tells them apart


FORBIDDEN = {
    "staff": [
        ("GET", "/partner/dashboard"),
        ("GET", "/partner/staff"),
        ("GET", "/partner/points"),
        ("GET", "/center/dashboard"),
        ("GET", "/center/network"),
        ("GET", "/audit"),
        ("FORM", "/partner/staff/invite"),
        ("FORM", "/center/partners"),
        ("FORM", "/partner/points"),
    ],
    "lead": [
        ("GET", "/partner/dashboard"),
        ("GET", "/center/network"),
        ("GET", "/audit"),
        ("FORM", "/partner/staff/invite"),
        ("FORM", "/center/partners"),
    ],
    "manager": [
        ("GET", "/center/dashboard"),
        ("GET", "/center/network"),
        ("GET", "/audit"),
        ("FORM", "/center/partners"),
        ("GET", "/dossiers/new/1.001193"),
    ],
    "admin": [("GET", "/audit"), ("GET", "/dossiers/new/1.001193"), ("GET", "/partner/staff")],
    "auditor": [
        ("FORM", "/center/partners"),
        ("FORM", "/partner/staff/invite"),
        ("GET", "/dossiers"),
        ("GET", "/partner/dashboard"),
    ],
}


@pytest.mark.parametrize("who", sorted(FORBIDDEN))
def test_each_role_is_refused_what_it_must_not_do(portal, world, who):
    client = _as(portal, world[who])
    body = {
        "code": "X1",
        "name": "X",
        "kind": "bank",
        "manager_email": "x@x.vn",
        "manager_name": "X",
        "email": "y@y.vn",
        "full_name": "Y",
        "role": "agent_staff",
    }
    for method, url in FORBIDDEN[who]:
        response = _send(client, method, url, body)
        assert response.status_code == 403, (who, method, url, response.status_code)


def test_the_center_moves_on_points_and_partners_but_the_auditor_only_reads(portal, world):
    partner = create_partner()
    pending = create_point(partner, status=AgentPointStatus.pending)
    auditor = _as(portal, world["auditor"])
    assert auditor.get("/center/network").status_code == 200
    assert auditor.post_form(f"/center/points/{pending.id}/status", {"status": "approved"}).status_code == 403
    admin = _as(portal, world["admin"])
    assert admin.post_form(f"/center/points/{pending.id}/status", {"status": "approved"}).status_code == 200
    assert admin.post_form(f"/center/points/{pending.id}/status", {"status": "closed"}).status_code == 422
    assert admin.get("/audit").status_code == 403
    assert auditor.get("/audit?verify=true").status_code == 200


def _events(action: str) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_a_form_post_without_csrf_is_refused_and_recorded(portal, world):
    client = _as(portal, world["staff"])
    before = len(_events("security.csrf_rejected"))
    response = client.http.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert len(_events("security.csrf_rejected")) == before + 1


def test_a_tampered_session_cookie_signs_nobody_in_and_is_recorded(portal, world):
    client = _as(portal, world["staff"])
    cookie = client.http.cookies["portal_session"]
    forged = cookie[:-6] + ("AAAAAA" if not cookie.endswith("AAAAAA") else "BBBBBB")
    before = len(_events("security.session_cookie_rejected"))
    client.http.cookies.set("portal_session", forged)
    response = client.get("/dossiers", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")
    assert len(_events("security.session_cookie_rejected")) == before + 1


def test_a_login_flood_locks_the_account_for_new_devices_and_each_kind_of_refusal_is_recorded(portal):
    partner = create_partner()
    victim = create_staff(create_point(partner), partner)
    client = portal()
    for _ in range(5):
        assert client.sign_in(victim.email, "guess").status_code == 401
    locked = client.sign_in(victim.email, PASSWORD)
    assert locked.status_code == 401 and "quá nhiều lần" in locked.text
    attempts = [e for e in _events("auth.sign_in_failed") if e.detail.get("email") == victim.email]
    # Repeats of one refusal are tallied, not written each (tests/portal/test_sign_in.py).
    assert [e.detail["reason"] for e in attempts] == ["wrong_password", "failed_now_locked", "locked_out"]


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/"])
def test_signing_in_never_sends_anyone_to_another_site(portal, world, target):
    client = portal()
    response = client.post_form("/login", {"email": world["staff"].email, "password": PASSWORD, "next": target})
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/dossiers"


def test_a_stranger_is_sent_to_sign_in_and_back_to_where_they_were(portal, world):
    response = portal().get("/dossiers/new/1.001193?x=1", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/dossiers/new/1.001193%3Fx%3D1"
