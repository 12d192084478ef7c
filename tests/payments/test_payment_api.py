"""The contract partner systems see: start a payment for a dossier, read its state (issue #11)."""

from __future__ import annotations

import uuid

import pytest

from agents.api_clients import service as api_clients
from agents.staff.models import Role
from payments.gateways import vnpay_client
from portal.core.db import unit_of_work
from portal.core.settings import get_settings
from tests.factories import create_counter, create_person, file_birth_registration
from tests.payments.conftest import file_residence, start
from tests.vnpay_support import choose, wait_until


@pytest.fixture
def branch():  # type: ignore[no-untyped-def]
    partner, point, staff = create_counter()
    manager = create_person((Role.partner_manager, partner, None), name="Trần Quản Lý")
    return partner, point, staff, manager


def _token(portal_http, branch, scopes=("payments",)) -> dict[str, str]:  # type: ignore[no-untyped-def]
    partner, point, _, manager = branch
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        client, secret = api_clients.register_client(
            session, manager, name="Phần mềm thu phí", scopes=list(scopes), agent_point_id=point.id
        )
    answer = portal_http.post(
        "/api/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, secret)
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_partner_system_starts_a_payment_and_reads_it_paid(stack, portal_http, branch):
    _, point, staff, _ = branch
    dossier = file_residence(staff, point)
    auth = _token(portal_http, branch)

    started = portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=auth)

    assert started.status_code == 201, started.text
    body = started.json()
    assert set(body) == {"payment_id", "txn_ref", "amount_vnd", "payment_url", "expires_at"}
    assert body["amount_vnd"] == 10_000
    assert body["payment_url"].startswith(get_settings().vnpay.payment_url + "?")
    assert "vnp_Amount=1000000&" in body["payment_url"]
    assert get_settings().vnpay.hash_secret not in body["payment_url"]
    with vnpay_client() as client:  # the URL carries what it says, signed under our secret
        assert client.tmn_code in body["payment_url"]
    again = portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=auth)
    assert again.status_code == 201 and again.json() == body  # the open attempt, not a second one

    read = portal_http.get(f"/api/v1/payments/{body['payment_id']}", headers=auth)
    assert read.status_code == 200 and read.json()["state"] == "pending"
    choose(body["payment_url"], "success")
    wait_until(
        lambda: portal_http.get(f"/api/v1/payments/{body['payment_id']}", headers=auth).json()["state"] == "paid",
        what="the payment to read paid",
    )
    paid_again = portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=auth)
    assert paid_again.status_code == 409 and paid_again.json()["error"] == "nothing_to_pay"


def test_a_free_dossier_has_nothing_to_pay(stack, portal_http, branch):
    _, point, staff, _ = branch
    dossier = file_birth_registration(staff, point)

    answer = portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=_token(portal_http, branch))

    assert answer.status_code == 409
    assert answer.json()["error"] == "nothing_to_pay"
    assert dossier.tracking_code in answer.json()["message"]


def test_another_partners_dossier_and_payment_are_not_found(stack, portal_http, branch):
    _, other_point, other_staff = create_counter()
    foreign = file_residence(other_staff, other_point)
    auth = _token(portal_http, branch)

    assert portal_http.post(f"/api/v1/dossiers/{foreign.id}/payments", headers=auth).status_code == 404
    assert portal_http.post(f"/api/v1/dossiers/{uuid.uuid4()}/payments", headers=auth).status_code == 404
    foreign_payment = start(foreign)
    missing = portal_http.get(f"/api/v1/payments/{uuid.uuid4()}", headers=auth)
    hidden = portal_http.get(f"/api/v1/payments/{foreign_payment.id}", headers=auth)
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_a_token_without_the_payments_scope_is_refused(stack, portal_http, branch):
    _, point, staff, _ = branch
    dossier = file_residence(staff, point)
    auth = _token(portal_http, branch, scopes=("dossiers:read",))

    assert portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=auth).status_code == 403


def test_a_refund_is_asked_for_through_the_api_and_a_center_admin_approves_it(stack, portal_http, branch):
    from sqlalchemy import update

    from agents.dossiers.models import CityStatus, Dossier
    from portal.core.tenancy import Scope
    from tests.factories import PASSWORD
    from tests.payments.conftest import reload_payment

    _, point, staff, _ = branch
    dossier = file_residence(staff, point)
    auth = _token(portal_http, branch)
    body = portal_http.post(f"/api/v1/dossiers/{dossier.id}/payments", headers=auth).json()
    choose(body["payment_url"], "success")
    wait_until(lambda: reload_payment(uuid.UUID(body["payment_id"])).paid_at, what="the IPN")
    with unit_of_work(Scope.network("test setup", actor_label="test")) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier.id).values(city_status=CityStatus.refused))

    too_much = portal_http.post(
        f"/api/v1/payments/{body['payment_id']}/refunds", json={"reason": "Từ chối", "amount_vnd": 10_001}, headers=auth
    )
    asked = portal_http.post(
        f"/api/v1/payments/{body['payment_id']}/refunds", json={"reason": "Hồ sơ bị từ chối"}, headers=auth
    )

    assert too_much.status_code == 409 and too_much.json()["error"] == "refund_not_allowed"
    assert asked.status_code == 201 and asked.json()["amount_vnd"] == 10_000 and asked.json()["state"] == "requested"
    refund_id = asked.json()["refund_id"]
    assert portal_http.post(f"/api/v1/refunds/{refund_id}/approve", headers=auth).status_code in (401, 403)

    admin = create_person((Role.center_admin, None, None))
    with httpx_client(portal_http) as browser:
        browser.get("/login")
        csrf = browser.cookies["csrftoken"]
        browser.post("/login", data={"email": admin.email, "password": PASSWORD, "_csrf_token": csrf})
        listed = browser.get("/api/v1/refunds").json()
        assert refund_id in [r["refund_id"] for r in listed]
        approved = browser.post(f"/api/v1/refunds/{refund_id}/approve", headers={"x-csrftoken": csrf})
        assert approved.status_code == 200 and approved.json()["state"] == "approved"


def httpx_client(portal_http):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.Client(base_url=str(portal_http.base_url), timeout=30)
