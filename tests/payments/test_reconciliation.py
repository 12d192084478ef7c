"""Reconciliation asks VNPay (querydr, over HTTP to the simulator) about pending payments and settles them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from payments.gateways import vnpay_client
from payments.models import MessageDirection, PaymentState
from payments.reconciliation import Reconciled, reconcile_due
from portal.core.audit import AuditEvent
from portal.core.db import read_only, utcnow
from portal.core.tenancy import Scope
from tests.factories import create_counter
from tests.payments.conftest import file_residence, messages_of, reload_payment, start
from tests.vnpay_support import choose, open_page, wait_until

NOW = timedelta(0)


def _reconcile(**kw):  # type: ignore[no-untyped-def]
    with vnpay_client() as client:
        return reconcile_due(client, older_than=NOW, **kw)


def test_a_payment_whose_ipn_never_came_is_settled_paid_from_querydr(stack, portal_http):
    stack.configure(ipn_drop=True)
    _, point, staff = create_counter()
    payment = start(file_residence(staff, point))
    choose(payment.payment_url, "success")

    outcomes = _reconcile()

    assert outcomes[payment.txn_ref] is Reconciled.paid
    paid = reload_payment(payment.id)
    assert paid.state is PaymentState.paid
    assert paid.transaction_no == stack.transaction(payment.txn_ref)["transaction_no"]
    kinds = [(m.direction, m.kind) for m in messages_of(payment.id)]
    assert (MessageDirection.sent, "querydr") in kinds and (MessageDirection.received, "querydr_answer") in kinds
    # The IPN, should it come late after all, finds it settled.
    query = stack.ipn_log(payment.txn_ref)[0]["query"].lstrip("?")
    assert portal_http.get(f"/api/payments/vnpay/ipn?{query}").json()["RspCode"] == "02"
    assert payment.txn_ref not in _reconcile()  # settled payments are not asked about again


def test_a_failed_payment_is_settled_failed_and_a_young_one_is_left_alone(stack):
    stack.configure(ipn_drop=True)
    _, point, staff = create_counter()
    failed = start(file_residence(staff, point))
    choose(failed.payment_url, "failure", reason="51")
    young = start(file_residence(staff, point))

    with vnpay_client() as client:
        outcomes = reconcile_due(client, older_than=timedelta(seconds=0))
        later = reconcile_due(client, older_than=timedelta(hours=1))

    assert outcomes[failed.txn_ref] is Reconciled.failed
    assert reload_payment(failed.id).state is PaymentState.failed
    assert outcomes[young.txn_ref] is Reconciled.still_pending  # VNPay knows it as not completed / not at all
    assert young.txn_ref not in later
    assert reload_payment(young.id).state is PaymentState.pending


def test_a_payment_past_its_deadline_that_vnpay_knows_unpaid_is_expired(stack):
    _, point, staff = create_counter()
    never_opened = start(file_residence(staff, point))
    opened = start(file_residence(staff, point))
    assert open_page(opened.payment_url)[0].status_code == 200  # pending at VNPay, nobody chose

    outcomes = _reconcile(now=utcnow() + timedelta(minutes=20))

    assert outcomes[never_opened.txn_ref] is Reconciled.expired
    assert outcomes[opened.txn_ref] is Reconciled.expired
    assert reload_payment(never_opened.id).state is PaymentState.expired
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        assert session.scalar(
            select(AuditEvent.seq).where(AuditEvent.action == "payment.expired", AuditEvent.object_id == str(opened.id))
        )


def test_vnpay_down_leaves_payments_pending_for_the_next_run(stack):
    stack.configure(ipn_drop=True)
    _, point, staff = create_counter()
    payment = start(file_residence(staff, point))
    choose(payment.payment_url, "success")
    stack.configure(api_down=True)

    assert _reconcile()[payment.txn_ref] is Reconciled.unavailable
    assert reload_payment(payment.id).state is PaymentState.pending

    stack.configure(api_down=False)
    wait_until(lambda: _reconcile().get(payment.txn_ref) is Reconciled.paid, what="the next run to settle it")
