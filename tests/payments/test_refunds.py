"""Refunds: asked for when the city refuses or stops a paid dossier, approved by a center admin, sent to VNPay.

A refund can never exceed what was paid, whoever asks and however often.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update

from agents.dossiers.models import CityStatus, Dossier
from agents.staff.models import Role
from payments import refunds
from payments.gateways import vnpay_client
from payments.gateways.vnpay import GatewayUnavailable, VNPayClient
from payments.models import Payment, PaymentState, RefundState
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import NotFound, PermissionDenied
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person
from tests.payments.conftest import file_residence, reload_payment, start
from tests.vnpay_support import choose, wait_until


@pytest.fixture
def paid(stack):  # type: ignore[no-untyped-def]
    """A paid permanent-residence dossier (10,000 VND), its staff member, and a center admin."""
    _, point, staff = create_counter()
    dossier = file_residence(staff, point)
    payment = start(dossier)
    choose(payment.payment_url, "success")
    wait_until(lambda: reload_payment(payment.id).state is PaymentState.paid, what="the IPN")
    admin = create_person((Role.center_admin, None, None), name="Lê Quản Trị")
    return {"dossier": dossier, "payment": payment, "staff": staff, "admin": admin, "point": point}


def _city_says(dossier: Dossier, status: CityStatus) -> None:
    with unit_of_work(Scope.network("test setup", actor_label="test")) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier.id).values(city_status=status.value))


def _ask(actor, payment: Payment, amount: int | None, reason: str = "Hồ sơ bị từ chối"):  # type: ignore[no-untyped-def]
    with unit_of_work(Scope.network("refund request", actor_label="test")) as session:
        return refunds.request_refund(session, actor, payment.id, amount_vnd=amount, reason=reason)


def _approve(admin, refund_id):  # type: ignore[no-untyped-def]
    with unit_of_work(admin.network_scope("approve a refund")) as session:
        refunds.approve_refund(session, admin, refund_id)
    with vnpay_client() as client:  # what the task payments.send_refund does
        return refunds.send_refund(refund_id, client, scope=Scope.network("send refund", actor_label="test"))


def test_a_refused_dossier_is_refunded_in_two_parts_and_never_beyond_what_was_paid(paid, stack):
    payment, staff, admin = paid["payment"], paid["staff"], paid["admin"]
    _city_says(paid["dossier"], CityStatus.refused)

    first = _ask(staff, payment, 4_000)
    with pytest.raises(refunds.RefundNotAllowed):
        _ask(staff, payment, 6_001)  # 4,000 is already asked for: only 6,000 is left
    assert _approve(admin, first.id) is RefundState.accepted

    partly = reload_payment(payment.id)
    assert partly.state is PaymentState.partially_refunded and partly.refunded_vnd == 4_000
    assert stack.transaction(payment.txn_ref)["refunded_vnd"] == 4_000

    rest = _ask(staff, payment, None)
    assert rest.amount_vnd == 6_000
    assert _approve(admin, rest.id) is RefundState.accepted
    done = reload_payment(payment.id)
    assert done.state is PaymentState.refunded and done.refunded_vnd == 10_000
    assert stack.transaction(payment.txn_ref)["net_vnd"] == 0
    with pytest.raises(refunds.RefundNotAllowed):
        _ask(staff, payment, 1)


def test_only_a_refused_or_stopped_dossier_is_refunded_and_only_a_center_admin_approves(paid):
    payment, staff, admin = paid["payment"], paid["staff"], paid["admin"]
    with pytest.raises(refunds.RefundNotAllowed):
        _ask(staff, payment, 1_000)  # the city has not refused it
    _city_says(paid["dossier"], CityStatus.stopped)
    asked = _ask(staff, payment, 1_000)

    with pytest.raises(PermissionDenied), unit_of_work(staff.partner_scope(payment.partner_id)) as session:
        refunds.approve_refund(session, staff, asked.id)
    _, _, stranger = create_counter()
    with pytest.raises(NotFound):
        _ask(stranger, payment, 1_000)  # another partner's payment is not theirs to see
    with unit_of_work(admin.network_scope("reject a refund")) as session:
        refunds.reject_refund(session, admin, asked.id, reason="Không có căn cứ")
    assert reload_payment(payment.id).refunded_vnd == 0


def test_reconciliation_proposes_a_full_refund_once_for_a_refused_paid_dossier(paid):
    _city_says(paid["dossier"], CityStatus.refused)

    with unit_of_work(Scope.network("reconciliation", actor_label="test")) as session:
        first = [r.payment_id for r in refunds.propose_refunds(session)]
    with unit_of_work(Scope.network("reconciliation", actor_label="test")) as session:
        again = [r.payment_id for r in refunds.propose_refunds(session)]

    assert paid["payment"].id in first and paid["payment"].id not in again
    with unit_of_work(paid["admin"].network_scope("refunds to decide")) as session:
        waiting = {p.id: r.amount_vnd for r, p in refunds.pending_requests(session, paid["admin"])}
    assert waiting[paid["payment"].id] == 10_000


def test_vnpay_refusing_a_refund_leaves_the_payment_as_it_was(paid, stack):
    payment, staff, admin = paid["payment"], paid["staff"], paid["admin"]
    _city_says(paid["dossier"], CityStatus.refused)
    asked = _ask(staff, payment, 10_000)
    # VNPay's ledger already refunded it elsewhere (a refund made at VNPay's merchant site).
    with vnpay_client() as client:
        from payments.gateways.vnpay import RefundKind

        client.refund(
            txn_ref=payment.txn_ref,
            amount_vnd=10_000,
            kind=RefundKind.FULL,
            transaction_date=payment.gateway_create_date,
            created_by="elsewhere",
        )

    assert _approve(admin, asked.id) is RefundState.refused
    unchanged = reload_payment(payment.id)
    assert unchanged.state is PaymentState.paid and unchanged.refunded_vnd == 0


class _AnswerLost(httpx.BaseTransport):
    """A cut connection: the request reaches VNPay, which acts on it, and its answer never comes back."""

    def __init__(self) -> None:
        self._network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._network.handle_request(request).read()
        raise httpx.ReadTimeout("the answer was lost on the way back", request=request)


def test_a_refund_whose_answer_was_lost_is_not_sent_again_as_a_new_refund(paid, stack):
    payment, staff, admin = paid["payment"], paid["staff"], paid["admin"]
    _city_says(paid["dossier"], CityStatus.refused)
    asked = _ask(staff, payment, 3_000)
    with unit_of_work(admin.network_scope("approve a refund")) as session:
        refunds.approve_refund(session, admin, asked.id)
    scope = Scope.network("send refund", actor_label="test")
    lossy = VNPayClient.from_settings(get_settings().vnpay, http=httpx.Client(transport=_AnswerLost()))
    with lossy, pytest.raises(GatewayUnavailable):
        refunds.send_refund(asked.id, lossy, scope=scope)
    assert stack.transaction(payment.txn_ref)["refunded_vnd"] == 3_000  # VNPay did refund

    with vnpay_client() as client:  # the task's retry
        again = refunds.send_refund(asked.id, client, scope=scope)

    assert stack.transaction(payment.txn_ref)["refunded_vnd"] == 3_000  # not twice
    assert again is RefundState.approved  # VNPay said "duplicate request": kept for a person, never "refused"
    assert reload_payment(payment.id).refunded_vnd == 0  # nothing recorded that VNPay did not confirm
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        unknown = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "refund.outcome_unknown", AuditEvent.object_id == str(asked.id)
            )
        ).all()
    assert len(unknown) == 1
