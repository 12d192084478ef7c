"""The staff screen and the public tracking page offer the pay link and QR; a free dossier shows no payment step."""

from __future__ import annotations

import re

import httpx

from payments.models import PaymentState
from tests.factories import PASSWORD, citizen, create_counter, file_birth_registration
from tests.payments.conftest import file_residence, reload_payment
from tests.vnpay_support import choose, wait_until


def _browser(portal_http) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(base_url=str(portal_http.base_url), timeout=30)


def _signed_in(portal_http, email: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    browser = _browser(portal_http)
    browser.get("/login")
    browser.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": browser.cookies["csrftoken"]})
    return browser


def test_the_counter_shows_a_qr_code_for_the_fee_and_a_free_dossier_shows_none(stack, portal_http):
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    free = file_birth_registration(staff, point)
    browser = _signed_in(portal_http, staff.email)

    before = browser.get(f"/dossiers/{dossier.id}")
    assert 'data-testid="payment-panel"' in before.text and 'data-testid="start-payment"' in before.text
    assert 'data-testid="payment-panel"' not in browser.get(f"/dossiers/{free.id}").text

    started = browser.post(
        f"/dossiers/{dossier.id}/payments", data={"_csrf_token": browser.cookies["csrftoken"]}, follow_redirects=False
    )
    assert started.status_code == 303
    shown = browser.get(started.headers["location"].split("#")[0]).text
    assert 'data-testid="pay-qr"' in shown and "<svg" in shown
    link = re.search(r'href="([^"]+)" data-testid="pay-link"', shown).group(1).replace("&amp;", "&")
    choose(link, "success")
    wait_until(lambda: 'data-testid="fee-paid"' in browser.get(f"/dossiers/{dossier.id}").text, what="paid shown")
    assert 'data-testid="start-payment"' not in browser.get(f"/dossiers/{dossier.id}").text


def test_the_citizen_pays_from_the_tracking_page(stack, portal_http):
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    browser = _browser(portal_http)
    browser.get("/track")
    csrf = browser.cookies["csrftoken"]

    tracked = browser.post(
        "/track", data={"code": dossier.tracking_code, "phone": citizen()["owner_phone"], "_csrf_token": csrf}
    )
    assert 'data-testid="start-payment"' in tracked.text
    token = re.search(r'name="token" value="([0-9a-f]+)"', tracked.text).group(1)
    forged = browser.post(f"/track/{dossier.tracking_code}/pay", data={"token": "0" * 32, "_csrf_token": csrf})
    assert forged.status_code == 404

    paying = browser.post(f"/track/{dossier.tracking_code}/pay", data={"token": token, "_csrf_token": csrf})

    assert paying.status_code == 200 and 'data-testid="pay-qr"' in paying.text
    link = re.search(r'href="([^"]+)" data-testid="pay-link"', paying.text).group(1).replace("&amp;", "&")
    back = choose(link, "success")
    result = browser.get(back)
    assert 'data-testid="outcome-paid"' in result.text
    txn_ref = re.search(r"vnp_TxnRef=([A-Z0-9]+)", back).group(1)
    from payments.queries import by_txn_ref
    from portal.core.db import read_only
    from portal.core.tenancy import Scope

    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        payment_id = by_txn_ref(session, txn_ref).id
    wait_until(lambda: reload_payment(payment_id).state is PaymentState.paid, what="the IPN")


def test_a_free_dossier_on_the_tracking_page_has_no_payment_step(stack, portal_http):
    _, point, staff = create_counter()
    free = file_birth_registration(staff, point)
    browser = _browser(portal_http)
    browser.get("/track")
    tracked = browser.post(
        "/track",
        data={
            "code": free.tracking_code,
            "phone": citizen()["owner_phone"],
            "_csrf_token": browser.cookies["csrftoken"],
        },
    )
    assert 'data-testid="tracked"' in tracked.text
    assert 'data-testid="payment-panel"' not in tracked.text
