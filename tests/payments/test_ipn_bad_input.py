"""Issue #11's bad input, sent to the IPN over HTTP: each gets VNPay's right code, goes on the record, changes nothing.

The IPNs are signed with the simulator's own checksum code (independent of our client),
as VNPay's server would sign them, and then spoiled the way each case needs.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select, update

from agents.dossiers.models import DossierEvent
from payments.models import GatewayMessage, Payment, PaymentState
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from simulators.vnpay.checksum import signed_query, spoil
from tests.factories import create_counter
from tests.payments.conftest import file_residence, reload_payment, start
from tests.vnpay_support import OTHER_SECRET, OTHER_TMN_CODE

IPN = "/api/payments/vnpay/ipn"


def _fields(payment: Payment, **overrides: str) -> dict[str, str]:
    fields = {
        "vnp_Amount": str(payment.amount_vnd * 100),
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP14226112",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Le phi ho so",
        "vnp_PayDate": datetime.now().strftime("%Y%m%d%H%M%S"),
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": get_settings().vnpay.tmn_code,
        "vnp_TransactionNo": "14226112",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": payment.txn_ref,
    }
    fields.update(overrides)
    return fields


def _signed(payment: Payment, **overrides: str) -> str:
    return signed_query(get_settings().vnpay.hash_secret, _fields(payment, **overrides))


def _counts() -> tuple[int, int, int]:
    with read_only(Scope.network("test counts", actor_label="test")) as session:
        return (
            session.scalar(select(func.count()).select_from(GatewayMessage)) or 0,
            session.scalar(select(func.count()).select_from(DossierEvent)) or 0,
            session.scalar(select(func.count()).where(AuditEvent.action == "payment.ipn_refused")) or 0,
        )


@pytest.fixture
def pending(stack):  # type: ignore[no-untyped-def]
    _, point, staff = create_counter()
    return start(file_residence(staff, point))


def _set_state(payment: Payment, state: PaymentState) -> None:
    with unit_of_work(Scope.network("test setup", actor_label="test")) as session:
        session.execute(update(Payment).where(Payment.id == payment.id).values(state=state))


def _send(portal_http, query: str):  # type: ignore[no-untyped-def]
    before = _counts()
    response = portal_http.get(f"{IPN}?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json(), before


def _nothing_changed(payment: Payment, before: tuple[int, int, int], *, logged_with_payment: bool = False) -> None:
    after = _counts()
    assert after[1] == before[1], "the dossier's history changed"
    assert after[2] == before[2] + 1, "the refusal is not on the audit record"
    assert after[0] == before[0] + (1 if logged_with_payment else 0)


CASES = {
    # name: (how the query is made, expected RspCode, the raw message joins the payment's log)
    "tampered amount": (lambda p: _signed(p).replace("vnp_Amount=1000000", "vnp_Amount=100"), "97", False),
    "forged signature": (lambda p: _signed(p)[:-128] + spoil(_signed(p)[-128:]), "97", False),
    "missing signature": (lambda p: _signed(p).split("&vnp_SecureHash=")[0], "97", False),
    "another merchant's TmnCode, signed by them": (
        lambda p: signed_query(OTHER_SECRET, _fields(p, vnp_TmnCode=OTHER_TMN_CODE)),
        "97",
        False,
    ),
    "another merchant's TmnCode, signed with our secret": (
        lambda p: _signed(p, vnp_TmnCode=OTHER_TMN_CODE),
        "97",
        False,
    ),
    "unknown reference": (lambda p: _signed(p, vnp_TxnRef="HSNOSUCHPAYMENT1"), "01", False),
    "signed wrong amount": (lambda p: _signed(p, vnp_Amount="500000"), "04", True),
    "non-numeric amount": (lambda p: _signed(p, vnp_Amount="10000a0"), "04", False),
    "repeated parameter": (lambda p: _signed(p) + "&vnp_TxnRef=" + p.txn_ref, "99", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_ipn_is_answered_with_vnpays_code_and_changes_nothing(case, pending, portal_http):
    make, code, logged = CASES[case]

    reply, before = _send(portal_http, make(pending))

    assert reply["RspCode"] == code, reply
    assert set(reply) == {"RspCode", "Message"}
    _nothing_changed(pending, before, logged_with_payment=logged)
    assert reload_payment(pending.id).state is PaymentState.pending


@pytest.mark.parametrize("state", [PaymentState.expired, PaymentState.refunded, PaymentState.failed])
def test_an_ipn_for_a_payment_no_longer_pending_is_already_confirmed_and_changes_nothing(state, pending, portal_http):
    _set_state(pending, state)

    reply, before = _send(portal_http, _signed(pending))

    assert reply == {"RspCode": "02", "Message": "Order already confirmed"}
    _nothing_changed(pending, before, logged_with_payment=True)
    assert reload_payment(pending.id).state is state


def test_a_paid_dossier_is_never_paid_twice(pending, portal_http):
    first, _ = _send(portal_http, _signed(pending))
    again, before = _send(portal_http, _signed(pending, vnp_TransactionNo="99999999"))

    assert first == {"RspCode": "00", "Message": "Confirm Success"}
    assert again["RspCode"] == "02"
    paid = reload_payment(pending.id)
    assert paid.state is PaymentState.paid and paid.transaction_no == "14226112"
    _nothing_changed(pending, before, logged_with_payment=True)


def test_a_100_kb_query_string_is_answered_99_and_changes_nothing(pending, portal_http):
    query = _signed(pending) + "&vnp_Padding=" + "A" * 100_000
    before = _counts()
    # httpx refuses to send a URL this long, so the request is written on the socket by hand.
    address = urlparse(str(portal_http.base_url))
    with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
        conn.sendall(f"GET {IPN}?{query} HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body) == {"RspCode": "99", "Message": "Unknow error"}
    _nothing_changed(pending, before)
    assert reload_payment(pending.id).state is PaymentState.pending
