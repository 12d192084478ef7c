"""A fee is paid when its procedure says: before processing (from filing) or after it, once the city asks (issue #11).

The city's status 6 (Yêu cầu thực hiện nghĩa vụ tài chính) asks for the financial obligation after
intake: for a procedure that collects after processing it is what makes the fee outstanding, and the
citizen then pays it from the tracking page.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from agents.city.wire import CityUpdate
from agents.dossiers import city_status, filing
from agents.dossiers.models import Dossier
from agents.points.models import AgentPoint
from agents.procedures.models import ChargeTiming
from agents.staff.actor import Actor
from payments import rules
from payments.models import PaymentState
from payments.queries import by_txn_ref
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import citizen, create_counter, publish_procedure
from tests.payments.conftest import reload_payment
from tests.vnpay_support import choose, wait_until

AFTER = "9.900034"  # a test procedure whose fee (30,000 VND) the city collects after processing


def _file_collected_after(staff: Actor, point: AgentPoint) -> Dossier:
    publish_procedure(
        AFTER,
        name="Thủ tục thu lệ phí sau khi xử lý",
        fee_rules={"kind": "fixed", "amount_vnd": 30_000},
        city_charges="after",
    )
    with unit_of_work(staff.partner_scope(point.partner_id)) as session:
        request = filing.FilingRequest(AFTER, point.id, uuid.uuid4().hex, citizen(), {})
        return filing.file_dossier(session, staff, request).dossier


def _city(dossier: Dossier, seq: int, status: int) -> None:
    with unit_of_work(Scope.network("test: the city reports", actor_label="city system")) as session:
        report = CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), tracking_code=dossier.tracking_code)
        assert city_status.apply_city_update(session, report) == "applied"


def _track(browser, dossier: Dossier) -> str:  # type: ignore[no-untyped-def]
    browser.get("/track")
    answer = browser.post(
        "/track",
        data={
            "code": dossier.tracking_code,
            "phone": citizen()["owner_phone"],
            "_csrf_token": browser.cookies["csrftoken"],
        },
    )
    assert answer.status_code == 200, answer.text[:300]
    return answer.text


def test_a_fee_collected_after_processing_falls_due_only_once_the_city_asks_or_has_processed():
    assert rules.fee_due(ChargeTiming.before, set()) and rules.fee_due(ChargeTiming.none, set())
    assert not rules.fee_due(ChargeTiming.after, set())
    assert not rules.fee_due(ChargeTiming.after, {1, 2, 4, 5})
    assert rules.fee_due(ChargeTiming.after, {1, 2, 6})
    assert rules.fee_due(ChargeTiming.after, {1, 2, 6, 4})  # still due once the city moved on
    assert rules.fee_due(ChargeTiming.after, {1, 2, 4, 9})


def test_the_citys_request_for_the_financial_obligation_makes_the_fee_payable_from_the_tracking_page(
    stack, portal_http
):
    _, point, staff = create_counter()
    dossier = _file_collected_after(staff, point)
    browser = type(portal_http)(base_url=str(portal_http.base_url), timeout=30)

    before = _track(browser, dossier)
    assert 'data-testid="payment-panel"' in before and 'data-testid="fee-due-later"' in before
    assert re.search(r'data-testid="fee-total">30\.000', before)
    assert 'data-testid="start-payment"' not in before  # nothing to pay before processing

    _city(dossier, 1, 1)
    _city(dossier, 2, 2)
    _city(dossier, 3, 6)  # Yêu cầu thực hiện nghĩa vụ tài chính

    asked = _track(browser, dossier)
    assert 'data-testid="fee-due-later"' not in asked
    assert re.search(r'data-testid="fee-outstanding">30\.000', asked)
    token = re.search(r'name="token" value="([0-9a-f]+)"', asked).group(1)
    paying = browser.post(
        f"/track/{dossier.tracking_code}/pay", data={"token": token, "_csrf_token": browser.cookies["csrftoken"]}
    )
    assert paying.status_code == 200 and 'data-testid="pay-qr"' in paying.text
    link = re.search(r'href="([^"]+)" data-testid="pay-link"', paying.text).group(1).replace("&amp;", "&")
    assert "vnp_Amount=3000000&" in link  # 30,000 VND x 100
    txn_ref = re.search(r"vnp_TxnRef=([A-Z0-9]+)", link).group(1)
    choose(link, "success")
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        payment_id = by_txn_ref(session, txn_ref).id
    wait_until(lambda: reload_payment(payment_id).state is PaymentState.paid, what="the IPN")

    _city(dossier, 4, 4)  # the city saw the obligation met and processes on
    after = _track(browser, dossier)
    assert 'data-testid="fee-paid"' in after and re.search(r'data-testid="fee-outstanding">0', after)
    assert 'data-testid="start-payment"' not in after
