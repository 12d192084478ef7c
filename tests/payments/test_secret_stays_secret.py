"""The merchant's hash secret appears in no URL, page, answer, stored message, audit entry or log line (issue #11).

One payment goes the whole way through the running portal (the tracking page, VNPay's page, the
IPN, the return page, a forged IPN, reconciliation), with every logger of the process captured at
DEBUG, the portal's uvicorn included; then everything the portal showed, sent, stored or logged is
searched for the secret.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from payments.gateways import vnpay_client
from payments.models import PaymentState
from payments.queries import by_txn_ref
from payments.reconciliation import reconcile_due
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import citizen, create_counter
from tests.payments.conftest import file_residence, messages_of, reload_payment
from tests.vnpay_support import choose, wait_until


def test_the_hash_secret_is_in_no_url_page_answer_stored_message_audit_entry_or_log_line(
    stack, portal_http, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    secret = get_settings().vnpay.hash_secret
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    seen: list[str] = []
    browser = httpx.Client(base_url=str(portal_http.base_url), timeout=30)

    browser.get("/track")
    tracked = browser.post(
        "/track",
        data={
            "code": dossier.tracking_code,
            "phone": citizen()["owner_phone"],
            "_csrf_token": browser.cookies["csrftoken"],
        },
    )
    token = re.search(r'name="token" value="([0-9a-f]+)"', tracked.text).group(1)
    paying = browser.post(
        f"/track/{dossier.tracking_code}/pay", data={"token": token, "_csrf_token": browser.cookies["csrftoken"]}
    )
    link = re.search(r'href="([^"]+)" data-testid="pay-link"', paying.text).group(1).replace("&amp;", "&")
    back = choose(link, "success")
    returned = browser.get(back)
    txn_ref = re.search(r"vnp_TxnRef=([A-Z0-9]+)", back).group(1)
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        payment_id = by_txn_ref(session, txn_ref).id
    wait_until(lambda: reload_payment(payment_id).state is PaymentState.paid, what="the IPN")
    forged = portal_http.get(
        f"/api/payments/vnpay/ipn?{back.split('?', 1)[1].replace('vnp_SecureHash=', 'vnp_SecureHash=0')}"
    )
    tampered = portal_http.get("/payments/vnpay/return?" + back.split("?", 1)[1].replace("vnp_Amount=", "vnp_Amount=9"))
    with vnpay_client() as client:
        reconcile_due(client, older_than=timedelta(0))
    seen += [tracked.text, paying.text, link, back, returned.text, forged.text, tampered.text]
    seen += [repr(h) for h in (tracked.headers, paying.headers, returned.headers)]
    seen += [f"{m.raw} {m.fields} {m.outcome}" for m in messages_of(payment_id)]
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        seen += [
            f"{e.action} {e.detail}"
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(200))
        ]
    seen += [repr(get_settings()), repr(get_settings().vnpay), str(get_settings().vnpay)]
    logged = caplog.text
    assert forged.json()["RspCode"] == "97" and tampered.status_code == 400
    assert "vnp_SecureHash" in logged or "ipn" in logged.lower()  # the run did log its gateway traffic
    assert [text for text in seen if secret in text] == []
    assert secret not in logged
