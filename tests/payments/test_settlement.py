"""Settlement per partner, point, day and procedure; its page and CSV; the daily comparison with the gateway."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import update

from agents.dossiers.models import CityStatus, Dossier
from agents.staff.models import Role
from payments import refunds
from payments.gateways import vnpay_client
from payments.models import Payment, PaymentState
from payments.settlement import VN, compare, settlement
from payments.tasks import run_comparison
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import PASSWORD, create_counter, create_person
from tests.payments.conftest import file_residence, reload_payment, start
from tests.vnpay_support import choose, wait_until
from tests.xlsx import read_xlsx


def _pay(staff, point) -> Payment:  # type: ignore[no-untyped-def]
    payment = start(file_residence(staff, point))
    choose(payment.payment_url, "success")
    wait_until(lambda: reload_payment(payment.id).state is PaymentState.paid, what="the IPN")
    return reload_payment(payment.id)


def _sign_in(portal_http, email: str) -> None:  # type: ignore[no-untyped-def]
    portal_http.get("/login")
    answer = portal_http.post(
        "/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": portal_http.cookies["csrftoken"]},
        follow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text


def test_a_day_of_payments_and_a_refund_add_up_per_point_and_the_csv_says_the_same(stack, portal_http):
    partner, point, staff = create_counter()
    manager = create_person((Role.partner_manager, partner, None), name="Trần Quản Lý")
    admin = create_person((Role.center_admin, None, None))
    first, second = _pay(staff, point), _pay(staff, point)
    with unit_of_work(Scope.network("test setup", actor_label="test")) as session:
        session.execute(update(Dossier).where(Dossier.id == second.dossier_id).values(city_status=CityStatus.refused))
    with unit_of_work(Scope.network("refund", actor_label="test")) as session:
        asked = refunds.request_refund(session, staff, second.id, amount_vnd=3_000, reason="Hồ sơ bị từ chối")
    with unit_of_work(admin.network_scope("approve")) as session:
        refunds.approve_refund(session, admin, asked.id)
    with vnpay_client() as client:
        refunds.send_refund(asked.id, client, scope=Scope.network("send", actor_label="test"))
    today = datetime.now(VN).date()

    with read_only(manager.partner_scope(partner.id)) as session:
        (row,) = settlement(session, today, today)
    assert (row.point_name, row.procedure_code, row.payments) == (point.name, "1.004222", 2)
    assert (row.collected_vnd, row.refunded_vnd, row.net_vnd) == (20_000, 3_000, 17_000)

    _sign_in(portal_http, manager.email)
    shown = portal_http.get("/partner/settlement")
    assert shown.status_code == 200 and point.name in shown.text and "17.000" in shown.text
    exported = portal_http.get(f"/partner/settlement.csv?first={today}&last={today}")
    assert exported.status_code == 200
    lines = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(r["point"], r["collected_vnd"], r["refunded_vnd"], r["net_vnd"]) for r in lines] == [
        (point.name, "20000", "3000", "17000")
    ]
    book = portal_http.get(f"/partner/settlement.xlsx?first={today}&last={today}")
    assert book.status_code == 200, book.text[:300]
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="settlement-' in book.headers["content-disposition"]
    sheet = read_xlsx(book.content)
    as_text = [list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))][0]
    assert [[str(cell) for cell in row] for row in sheet.rows] == as_text  # the same table as the CSV
    assert sheet.rows[1][8:] == [20_000, 3_000, 17_000]  # amounts are numbers in the workbook
    # The day's paid amount agrees with the gateway's ledger for these payments.
    ledger = {t["txn_ref"]: t for t in stack.control.get("/_sim/transactions").json()["items"]}
    assert sum(ledger[p.txn_ref]["net_vnd"] for p in (first, second)) == row.net_vnd


def test_the_daily_comparison_lists_every_difference_with_the_gateway(stack):
    _, point, staff = create_counter()
    agreed = _pay(staff, point)
    stack.configure(ipn_drop=True)
    lost_ipn = start(file_residence(staff, point))
    choose(lost_ipn.payment_url, "success")  # paid at VNPay, still pending here
    today = datetime.now(VN).date()

    differences = run_comparison(today)

    refs = {(d.txn_ref, d.problem) for d in differences}
    assert (lost_ipn.txn_ref, "missing_here") in refs
    assert not any(d.txn_ref == agreed.txn_ref for d in differences)


def test_compare_names_amount_state_and_refund_disagreements():
    def payment(ref: str, state: PaymentState, amount: int = 10_000, refunded: int = 0) -> Payment:
        return Payment(txn_ref=ref, state=state, amount_vnd=amount, refunded_vnd=refunded)

    ours = [
        payment("A", PaymentState.paid),
        payment("B", PaymentState.paid, amount=20_000),
        payment("C", PaymentState.partially_refunded, refunded=2_000),
        payment("D", PaymentState.failed),
        payment("E", PaymentState.paid),
    ]
    gateway = [
        {"txn_ref": "A", "state": "paid", "amount_vnd": 10_000, "refunded_vnd": 0},
        {"txn_ref": "B", "state": "paid", "amount_vnd": 10_000, "refunded_vnd": 0},
        {"txn_ref": "C", "state": "paid", "amount_vnd": 10_000, "refunded_vnd": 0},
        {"txn_ref": "D", "state": "paid", "amount_vnd": 10_000, "refunded_vnd": 0},
        {"txn_ref": "F", "state": "paid", "amount_vnd": 5_000, "refunded_vnd": 0},
        {"txn_ref": "G", "state": "cancelled", "amount_vnd": 5_000, "refunded_vnd": 0},
    ]

    assert [(d.txn_ref, d.problem) for d in compare(ours, gateway)] == [
        ("B", "amount"),
        ("C", "refunded"),
        ("D", "state"),
        ("E", "missing_at_gateway"),
        ("F", "missing_here"),
    ]
