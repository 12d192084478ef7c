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
