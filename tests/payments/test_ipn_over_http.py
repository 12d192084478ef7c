"""VNPay's IPN reaches the portal over real HTTP from the simulator: paid once, whatever VNPay repeats.

The simulator's payment page is driven like a browser; its server then calls
`GET /api/payments/vnpay/ipn` on the portal served by uvicorn, with the knobs that make
VNPay's delivery misbehave: duplicates, reordering, delays, bad signatures.
"""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from agents.dossiers.models import DossierEvent
from payments.models import MessageDirection, PaymentState
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import create_counter
from tests.payments.conftest import file_residence, messages_of, reload_payment, start
from tests.vnpay_support import choose, wait_until


def _paid_events(dossier_id) -> list[DossierEvent]:  # type: ignore[no-untyped-def]
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        return [
            e
            for e in session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id))
            if "VNPay" in e.note
        ]


def _audit(action: str, object_id) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
            )
        )


def test_a_citizen_pays_on_vnpay_and_the_ipn_marks_the_payment_and_the_dossier_once(stack):
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)
    assert payment.amount_vnd == 10_000 and payment.state is PaymentState.pending

    location = choose(payment.payment_url, "success")

    assert location.startswith(get_settings().web.public_url + "/payments/vnpay/return?")
    wait_until(lambda: reload_payment(payment.id).state is PaymentState.paid, what="the IPN to mark it paid")
    paid = reload_payment(payment.id)
    assert paid.transaction_no == stack.transaction(payment.txn_ref)["transaction_no"]
    assert paid.paid_at is not None
    (event,) = _paid_events(dossier.id)
    assert event.note == "Đã nộp lệ phí 10.000 đồng qua VNPay"
    assert len(_audit("payment.paid", payment.id)) == 1
    received = [m for m in messages_of(payment.id) if m.direction is MessageDirection.received]
    assert [(m.kind, m.outcome) for m in received] == [("ipn", "00")]
    assert received[0].raw == stack.ipn_log(payment.txn_ref)[0]["query"].lstrip("?")
    assert wait_until(lambda: stack.replies(payment.txn_ref)) == ["00"]
    secret = get_settings().vnpay.hash_secret
    assert all(secret not in m.raw and secret not in str(m.fields) for m in messages_of(payment.id))


def test_the_return_page_shows_the_result_and_changes_nothing(stack, portal_http):
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)
    stack.configure(ipn_drop=True)  # no IPN: only the return page could (wrongly) settle it

    location = choose(payment.payment_url, "success")
    page = portal_http.get(location)

    assert page.status_code == 200
    assert 'data-testid="outcome-paid"' in page.text
    assert payment.txn_ref in page.text
    assert reload_payment(payment.id).state is PaymentState.pending
    assert _paid_events(dossier.id) == []
    tampered = portal_http.get(location.replace("vnp_Amount=1000000", "vnp_Amount=100"))
    assert tampered.status_code == 400 and 'data-testid="unverified"' in tampered.text


def test_a_cancelled_payment_is_recorded_failed_and_a_new_attempt_can_start(stack):
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)

    choose(payment.payment_url, "cancel")

    wait_until(lambda: reload_payment(payment.id).state is PaymentState.failed, what="the cancel IPN")
    again = start(dossier)
    assert again.id != payment.id and again.txn_ref != payment.txn_ref
    assert again.state is PaymentState.pending and again.amount_vnd == 10_000


def test_duplicate_ipns_pay_once_and_the_copy_is_told_already_confirmed(stack):
    stack.configure(ipn_duplicate=True)
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)

    choose(payment.payment_url, "success")

    assert sorted(wait_until(lambda: len(stack.replies(payment.txn_ref)) >= 2 and stack.replies(payment.txn_ref))) == [
        "00",
        "02",
    ]
    assert reload_payment(payment.id).state is PaymentState.paid
    assert len(_paid_events(dossier.id)) == 1
    assert len(_audit("payment.paid", payment.id)) == 1
    received = [m.outcome for m in messages_of(payment.id) if m.direction is MessageDirection.received]
    assert sorted(received) == ["00", "02"]  # both copies are on the log, as they came


def test_reordered_ipns_for_two_payments_each_settle_their_own(stack):
    stack.configure(ipn_reorder=True, ipn_reorder_window_seconds=30)
    _, point, staff = create_counter()
    first, second = file_residence(staff, point), file_residence(staff, point)
    pay_first, pay_second = start(first), start(second)

    choose(pay_first.payment_url, "success")
    choose(pay_second.payment_url, "failure", reason="51")
    stack.control.post("/_sim/ipn/release").raise_for_status()

    wait_until(lambda: reload_payment(pay_first.id).state is PaymentState.paid, what="the first payment's IPN")
    wait_until(lambda: reload_payment(pay_second.id).state is PaymentState.failed, what="the second payment's IPN")
    assert reload_payment(pay_second.id).response_code == "51"
    assert len(_paid_events(first.id)) == 1 and _paid_events(second.id) == []


def test_an_ipn_with_a_bad_signature_is_refused_with_97_and_vnpay_keeps_trying(stack):
    stack.configure(ipn_bad_signature=True, ipn_max_attempts=3)
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)

    choose(payment.payment_url, "success")

    assert wait_until(lambda: len(stack.replies(payment.txn_ref)) >= 3 and stack.replies(payment.txn_ref)) == [
        "97",
        "97",
        "97",
    ]
    assert reload_payment(payment.id).state is PaymentState.pending
    assert [m for m in messages_of(payment.id) if m.direction is MessageDirection.received] == []


def test_concurrent_copies_of_one_ipn_apply_once(stack):
    stack.configure(ipn_drop=True)  # the simulator records the IPN; the test fires it itself, many at once
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)
    choose(payment.payment_url, "success")
    query = wait_until(lambda: stack.ipn_log(payment.txn_ref))[0]["query"].lstrip("?")
    url = f"{stack.portal_url}/api/payments/vnpay/ipn?{query}"
    replies: list[str] = []
    gate = threading.Barrier(8)

    def fire() -> None:
        gate.wait()
        replies.append(httpx.get(url, timeout=30).json()["RspCode"])

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(replies) == ["00"] + ["02"] * 7
    assert reload_payment(payment.id).state is PaymentState.paid
    assert len(_paid_events(dossier.id)) == 1
    assert len(_audit("payment.paid", payment.id)) == 1
