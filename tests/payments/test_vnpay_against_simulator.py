"""Our VNPay client against the VNPay simulator, over real HTTP.

The simulator signs with its own code, so agreement here is two independent
implementations agreeing. A stand-in plays the merchant's IPN endpoint and return page
(the portal's own endpoint comes later); it only records what arrives.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from payments.gateways.vnpay import (
    ForeignMerchant,
    GatewayProtocolError,
    GatewayUnavailable,
    InvalidSignature,
    PaymentOutcome,
    QueryOutcome,
    QueryResponseCode,
    RefundKind,
    RefundResponseCode,
    ResponseCode,
    TransactionStatus,
    TransactionType,
    UnverifiedResponse,
    VNPayClient,
)
from tests.vnpay_support import (
    HASH_SECRET,
    OTHER_SECRET,
    OTHER_TMN_CODE,
    TMN_CODE,
    VNPaySandbox,
    choose,
    new_txn_ref,
    open_page,
    query_of,
    running_sandbox,
    wait_until,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[VNPaySandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def vnpay(sandbox: VNPaySandbox) -> Iterator[VNPayClient]:
    sandbox.reset()
    with sandbox.client() as client:
        yield client


def start(client: VNPayClient, sandbox: VNPaySandbox, amount_vnd: int = 20_000, **options: object):  # type: ignore[no-untyped-def]
    return client.build_payment_url(
        txn_ref=new_txn_ref(),
        amount_vnd=amount_vnd,
        order_info="Lệ phí đăng ký thường trú, hồ sơ HN-2025-000123",
        ip_addr="113.160.92.202",
        return_url=sandbox.return_url,
        **options,  # type: ignore[arg-type]
    )


def paid(client: VNPayClient, sandbox: VNPaySandbox, amount_vnd: int = 20_000):  # type: ignore[no-untyped-def]
    link = start(client, sandbox, amount_vnd)
    choose(link.url, "success")
    return link


# -- payment page, return URL, IPN ------------------------------------------------------------------------


def test_the_simulator_accepts_our_payment_url_and_shows_the_order(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = start(vnpay, sandbox, 20_000)
    response, page = open_page(link.url)
    assert response.status_code == 200
    assert page.texts["txn-ref"] == link.txn_ref
    assert page.texts["amount"] == "20.000 VND"
    assert page.texts["order-info"] == "Le phi dang ky thuong tru, ho so HN-2025-000123"
    assert sandbox.transaction(link.txn_ref)["state"] == "pending"


def test_a_successful_payment_returns_and_notifies_with_parameters_our_client_verifies(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    link = start(vnpay, sandbox, 20_000)
    location = choose(link.url, "success")

    assert location.startswith(sandbox.return_url + "?")
    shown = vnpay.verify_callback(query_of(location))
    assert shown.outcome is PaymentOutcome.PAID
    assert (shown.txn_ref, shown.amount_vnd, shown.tmn_code) == (link.txn_ref, 20_000, TMN_CODE)

    (ipn,) = wait_until(lambda: sandbox.merchant.calls(link.txn_ref), what="the IPN")
    notified = vnpay.verify_callback(ipn.raw_query)
    assert notified.outcome is PaymentOutcome.PAID
    assert notified.fields == shown.fields  # the same signed parameters by both routes
    record = sandbox.transaction(link.txn_ref)
    assert notified.transaction_no == record["transaction_no"] != "0"
    assert record["state"] == "paid"


def test_cancel_and_failure_come_back_with_vnpays_codes(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    cancelled = vnpay.verify_callback(query_of(choose(start(vnpay, sandbox).url, "cancel")))
    assert cancelled.outcome is PaymentOutcome.CANCELLED
    assert cancelled.response_code is ResponseCode.CANCELLED_BY_CUSTOMER
    assert cancelled.transaction_status is TransactionStatus.FAILED
    assert cancelled.bank_tran_no is None

    failed = vnpay.verify_callback(query_of(choose(start(vnpay, sandbox).url, "failure", reason="51")))
    assert failed.outcome is PaymentOutcome.FAILED
    assert failed.response_code is ResponseCode.INSUFFICIENT_BALANCE


def test_a_tampered_return_amount_is_refused(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    location = choose(start(vnpay, sandbox, 20_000).url, "success")
    assert "vnp_Amount=2000000&" in location
    with pytest.raises(InvalidSignature):
        vnpay.verify_callback(query_of(location).replace("vnp_Amount=2000000", "vnp_Amount=200000"))


def test_a_return_for_another_merchant_is_refused(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    location = choose(start(vnpay, sandbox).url, "success")
    other = sandbox.client(tmn_code=OTHER_TMN_CODE, hash_secret=OTHER_SECRET)
    with pytest.raises(InvalidSignature):
        other.verify_callback(query_of(location))
    same_secret = sandbox.client(tmn_code=OTHER_TMN_CODE, hash_secret=HASH_SECRET)
    with pytest.raises(ForeignMerchant):
        same_secret.verify_callback(query_of(location))


def test_an_ipn_with_a_bad_signature_is_refused_by_our_verifier(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_bad_signature=True, ipn_max_attempts=1)
    link = start(vnpay, sandbox)
    choose(link.url, "success")
    (ipn,) = wait_until(lambda: sandbox.merchant.calls(link.txn_ref), what="the IPN")
    with pytest.raises(InvalidSignature):
        vnpay.verify_callback(ipn.raw_query)


def test_vietnamese_text_survives_the_round_trip_signed_on_both_sides(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    link = start(vnpay, sandbox)
    location = choose(link.url, "success")
    assert vnpay.verify_callback(query_of(location)).order_info == link.params["vnp_OrderInfo"]


# -- querydr -------------------------------------------------------------------------------------------------


def test_querydr_reports_a_paid_transaction(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox, 30_000)
    result = vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
    assert result.outcome is QueryOutcome.PAID
    assert result.response_code is QueryResponseCode.SUCCESS
    assert result.amount_vnd == 30_000
    assert result.transaction_type is TransactionType.PAYMENT
    assert result.transaction_no == sandbox.transaction(link.txn_ref)["transaction_no"]
    assert result.exchange.request["vnp_Command"] == "querydr"
    assert result.exchange.response["vnp_ResponseCode"] == "00"


def test_querydr_reports_pending_failed_and_unknown(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    shown = start(vnpay, sandbox)
    open_page(shown.url)  # the customer is looking at the page
    pending = vnpay.query_transaction(txn_ref=shown.txn_ref, transaction_date=shown.created_at)
    assert pending.outcome is QueryOutcome.PENDING

    cancelled = start(vnpay, sandbox)
    choose(cancelled.url, "cancel")
    assert vnpay.query_transaction(txn_ref=cancelled.txn_ref, transaction_date=cancelled.create_date).outcome is (
        QueryOutcome.FAILED
    )

    never = vnpay.query_transaction(txn_ref="NEVERSEEN1", transaction_date=shown.create_date)
    assert never.outcome is QueryOutcome.NOT_FOUND
    assert never.response_code is QueryResponseCode.TRANSACTION_NOT_FOUND


def test_the_same_request_id_twice_is_a_duplicate_request(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox)
    first = vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date, request_id="REQ1")
    again = vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date, request_id="REQ1")
    assert first.outcome is QueryOutcome.PAID
    assert again.response_code is QueryResponseCode.DUPLICATE_REQUEST
    assert again.outcome is QueryOutcome.NOT_ANSWERED


# -- refunds ---------------------------------------------------------------------------------------------------


def refund(client: VNPayClient, link, amount_vnd: int, kind: RefundKind, **options: object):  # type: ignore[no-untyped-def]
    return client.refund(
        txn_ref=link.txn_ref,
        amount_vnd=amount_vnd,
        kind=kind,
        transaction_date=link.create_date,
        created_by="admin@trungtam.demo.vn",
        **options,  # type: ignore[arg-type]
    )


def test_partial_refunds_add_up_to_the_amount_paid_and_no_further(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox, 20_000)
    first = refund(vnpay, link, 8_000, RefundKind.PARTIAL)
    assert first.accepted and first.amount_vnd == 8_000
    assert first.transaction_type is TransactionType.PARTIAL_REFUND
    assert first.transaction_status is TransactionStatus.REFUND_PROCESSING
    assert refund(vnpay, link, 12_000, RefundKind.PARTIAL).accepted

    over = refund(vnpay, link, 1_000, RefundKind.PARTIAL)
    assert not over.accepted
    assert over.response_code is RefundResponseCode.TOTAL_EXCEEDS_ORIGINAL

    record = sandbox.transaction(link.txn_ref)
    assert [r["amount_vnd"] for r in record["refunds"]] == [8_000, 12_000]
    assert (record["refunded_vnd"], record["net_vnd"]) == (20_000, 0)
    query = vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
    assert query.transaction_type is TransactionType.FULL_REFUND


def test_a_refund_larger_than_the_payment_is_refused(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox, 20_000)
    for kind in (RefundKind.PARTIAL, RefundKind.FULL):
        result = refund(vnpay, link, 20_100, kind)
        assert result.response_code is RefundResponseCode.INVALID_AMOUNT
    assert sandbox.transaction(link.txn_ref)["refunds"] == []


def test_a_second_full_refund_and_a_full_refund_after_a_partial_one_are_refused(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    whole = paid(vnpay, sandbox, 20_000)
    assert refund(vnpay, whole, 20_000, RefundKind.FULL).accepted
    assert refund(vnpay, whole, 20_000, RefundKind.FULL).response_code is RefundResponseCode.TOTAL_EXCEEDS_ORIGINAL

    part = paid(vnpay, sandbox, 20_000)
    assert refund(vnpay, part, 5_000, RefundKind.PARTIAL).accepted
    assert refund(vnpay, part, 20_000, RefundKind.FULL).response_code is RefundResponseCode.FULL_REFUND_AFTER_PARTIAL
    assert sandbox.transaction(part.txn_ref)["refunded_vnd"] == 5_000


def test_an_unpaid_or_unknown_transaction_cannot_be_refunded(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    cancelled = start(vnpay, sandbox)
    choose(cancelled.url, "cancel")
    assert refund(vnpay, cancelled, 20_000, RefundKind.FULL).response_code is (
        RefundResponseCode.TRANSACTION_NOT_SUCCESSFUL
    )
    link = paid(vnpay, sandbox)
    unknown = vnpay.refund(
        txn_ref="NEVERSEEN2",
        amount_vnd=1_000,
        kind=RefundKind.PARTIAL,
        transaction_date=link.create_date,
        created_by="admin",
    )
    assert unknown.response_code is RefundResponseCode.TRANSACTION_NOT_FOUND


def test_our_records_match_the_simulators_ledger(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    links = [paid(vnpay, sandbox, amount) for amount in (10_000, 20_000, 2_000)]
    choose(start(vnpay, sandbox).url, "cancel")
    refund(vnpay, links[0], 4_000, RefundKind.PARTIAL)
    ours = {link.txn_ref: link.amount_vnd for link in links}
    ours[links[0].txn_ref] -= 4_000
    theirs = {r["txn_ref"]: r["net_vnd"] for r in sandbox.transactions(tmn_code=TMN_CODE, state="paid")}
    assert theirs == ours


# -- the web API failing ----------------------------------------------------------------------------------------


def test_an_outage_is_a_retryable_error(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox)
    sandbox.configure(api_error_rate=1.0)
    with pytest.raises(GatewayUnavailable) as error:
        vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
    assert error.value.retryable and error.value.retry_after == 1.0
    sandbox.configure(api_error_rate=0, api_down=True)
    with pytest.raises(GatewayUnavailable):
        refund(vnpay, link, 1_000, RefundKind.PARTIAL)
    assert sandbox.transaction(link.txn_ref)["refunds"] == []


def test_a_slow_answer_is_a_retryable_timeout(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    sandbox.configure(api_latency_ms=1_500)
    with sandbox.client(timeout_seconds=0.3) as impatient, pytest.raises(GatewayUnavailable, match="no answer in time"):
        impatient.query_transaction(txn_ref="ANY1", transaction_date="20250115100405")


def test_an_unreachable_gateway_is_a_retryable_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    with (
        VNPayClient(
            tmn_code=TMN_CODE,
            hash_secret=HASH_SECRET,
            payment_url=f"http://127.0.0.1:{port}/paymentv2/vpcpay.html",
            api_url=f"http://127.0.0.1:{port}/merchant_webapi/api/transaction",
        ) as client,
        pytest.raises(GatewayUnavailable) as error,
    ):
        client.query_transaction(txn_ref="ANY1", transaction_date="20250115100405")
    assert error.value.retryable


def test_an_answer_with_a_bad_checksum_is_not_believed(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = paid(vnpay, sandbox)
    sandbox.configure(api_bad_signature=True)
    with pytest.raises(UnverifiedResponse) as error:
        vnpay.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
    assert error.value.response_code == "00"
    assert not error.value.retryable


def test_a_wrong_secret_is_refused_by_vnpay_and_its_answer_does_not_verify(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with (
        sandbox.client(hash_secret="WRONGSECRET0123456789ABCDEFGHIJ") as misconfigured,
        pytest.raises(UnverifiedResponse) as error,
    ):
        misconfigured.query_transaction(txn_ref="ANY1", transaction_date="20250115100405")
    assert error.value.response_code == "97"
    assert "check the merchant's hash secret" in str(error.value)


def test_an_unknown_tmn_code_gets_an_unsigned_answer_which_is_refused(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with sandbox.client(tmn_code="NOBODY00") as stranger, pytest.raises(UnverifiedResponse) as error:
        stranger.query_transaction(txn_ref="ANY1", transaction_date="20250115100405")
    assert error.value.response_code == "02"


def test_a_wrong_api_address_is_a_protocol_error(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with (
        VNPayClient(
            tmn_code=TMN_CODE,
            hash_secret=HASH_SECRET,
            payment_url=sandbox.payment_url,
            api_url=sandbox.base_url + "/merchant_webapi/api/nowhere",
        ) as client,
        pytest.raises(GatewayProtocolError, match="HTTP 404"),
    ):
        client.query_transaction(txn_ref="ANY1", transaction_date="20250115100405")


# -- the secret stays secret ----------------------------------------------------------------------------------


def test_the_secret_never_travels_nor_appears_in_logs_or_errors(
    sandbox: VNPaySandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.reset()
    messages: list[str] = []
    with sandbox.client() as client:
        link = paid(client, sandbox)
        client.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
        refund(client, link, 1_000, RefundKind.PARTIAL)
        sandbox.configure(api_bad_signature=True)
        with pytest.raises(UnverifiedResponse) as unverified:
            client.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
        messages.append(str(unverified.value))
        sandbox.configure(api_bad_signature=False, api_down=True)
        with pytest.raises(GatewayUnavailable) as down:
            client.query_transaction(txn_ref=link.txn_ref, transaction_date=link.create_date)
        messages.append(str(down.value))
    sent = sandbox.control.get("/_sim/api-calls").text
    assert '"vnp_Command":"refund"' in sent.replace(" ", "")
    for text in (link.url, sent, caplog.text, *messages):
        assert HASH_SECRET not in text
