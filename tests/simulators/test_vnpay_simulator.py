"""Specification of the VNPay sandbox simulator (docs/vnpay-simulator.md).

The simulator runs in uvicorn on a free local port and is spoken to over real HTTP:
our client builds the payment URLs and API requests, a page driver submits the payment
page's form like a browser, and a stand-in merchant receives the IPNs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest

from payments.gateways.vnpay import Locale, PaymentOutcome, RefundKind, VNPayClient
from payments.gateways.vnpay.wire import VN_TIME
from simulators.vnpay import SimConfig
from simulators.vnpay.config import DEMO_HASH_SECRET, DEMO_TMN_CODE
from tests.servers import bound_socket
from tests.vnpay_support import (
    API_PATH,
    HASH_SECRET,
    OTHER_SECRET,
    OTHER_TMN_CODE,
    PAYMENT_PATH,
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


def link_for(client: VNPayClient, sandbox: VNPaySandbox, amount_vnd: int = 20_000, **options: object):  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {
        "txn_ref": new_txn_ref(),
        "amount_vnd": amount_vnd,
        "order_info": "Le phi chung thuc ban sao",
        "ip_addr": "127.0.0.1",
        "return_url": sandbox.return_url,
        **options,
    }
    return client.build_payment_url(**arguments)  # type: ignore[arg-type]


def hand_signed_url(sandbox: VNPaySandbox, params: dict[str, str], secret: str = HASH_SECRET) -> str:
    """A payment URL signed by the test itself (ASCII values only), to send what our client never would."""
    data = "&".join(f"{k}={quote_plus(v)}" for k, v in sorted(params.items()))
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()
    return f"{sandbox.payment_url}?{data}&vnp_SecureHash={digest}"


# -- the payment page -----------------------------------------------------------------------------------


def test_the_page_shows_the_order_in_vietnamese_with_the_three_choices(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    link = link_for(vnpay, sandbox, 1_250_000)
    response, page = open_page(link.url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert page.lang == "vi"
    assert page.texts["merchant"] == "Cổng Đại lý Dịch vụ công (thử) (TESTTMN1)"
    assert page.texts["txn-ref"] == link.txn_ref
    assert page.texts["amount"] == "1.250.000 VND"
    assert page.texts["order-info"] == "Le phi chung thuc ban sao"
    assert page.texts["expires"] == link.expires_at.strftime("%d/%m/%Y %H:%M:%S") + " (GMT+7)"
    assert page.buttons == {
        "success": "Thanh toán thành công",
        "failure": "Thanh toán thất bại",
        "cancel": "Hủy thanh toán",
    }
    assert page.reasons[0] == "51" and "13" in page.reasons
    assert page.form_action == PAYMENT_PATH


def test_the_page_speaks_english_when_asked(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    _, page = open_page(link_for(vnpay, sandbox, 1_250_000, locale=Locale.ENGLISH).url)
    assert page.lang == "en"
    assert page.texts["amount"] == "1,250,000 VND"
    assert page.buttons == {"success": "Payment succeeds", "failure": "Payment fails", "cancel": "Cancel payment"}


def test_reloading_the_page_shows_the_same_pending_transaction(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox)
    _, first = open_page(link.url)
    _, again = open_page(link.url)
    assert first.hidden["ticket"] == again.hidden["ticket"]
    assert len(sandbox.transactions(txn_ref=link.txn_ref)) == 1


def test_a_tampered_url_gets_vnpays_wrong_signature_page(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox, 20_000)
    response, page = open_page(link.url.replace("vnp_Amount=2000000", "vnp_Amount=200000"))
    assert response.status_code == 400
    assert page.texts["error-code"] == "70"
    assert page.texts["error-message"] == "Sai chữ ký"
    assert sandbox.transactions() == []


def test_an_unregistered_tmn_code_is_refused(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with sandbox.client(tmn_code="NOBODY00") as stranger:
        response, page = open_page(link_for(stranger, sandbox).url)
    assert (response.status_code, page.texts["error-code"]) == (400, "71")


def test_another_merchants_secret_is_a_wrong_signature(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with sandbox.client(tmn_code=OTHER_TMN_CODE, hash_secret=HASH_SECRET) as confused:
        _, page = open_page(link_for(confused, sandbox).url)
    assert page.texts["error-code"] == "70"
    with sandbox.client(tmn_code=OTHER_TMN_CODE, hash_secret=OTHER_SECRET) as other:
        response, _ = open_page(link_for(other, sandbox).url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("suffix", "detail"),
    [
        ("&vnp_SecureHashType=HmacSHA512", "does not send vnp_SecureHashType"),
        ("&vnp_Amount=100", "parameter vnp_Amount is repeated"),
        ("&vnp_TxnRef=%C3", "not valid form-encoded UTF-8"),
        ("&pad=" + "x" * 17_000, "too long"),
    ],
)
def test_a_request_outside_the_protocol_is_refused_as_wrongly_formatted(
    vnpay: VNPayClient, sandbox: VNPaySandbox, suffix: str, detail: str
) -> None:
    response, page = open_page(link_for(vnpay, sandbox).url + suffix)
    assert (response.status_code, page.texts["error-code"]) == (400, "03")
    assert detail in page.texts["error-detail"]


def test_a_correctly_signed_but_invalid_request_is_refused_naming_the_parameter(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    params = dict(link_for(vnpay, sandbox).params)
    cases = {
        "vnp_Locale": ({**params, "vnp_Locale": "vi"}, "vnp_Locale must be vn or en"),
        "vnp_Amount": ({**params, "vnp_Amount": "1999"}, "vnp_Amount must be the amount in VND times 100"),
        "vnp_Foo": ({**params, "vnp_Foo": "1"}, "unknown parameter vnp_Foo"),
        "vnp_BankCode": ({**params, "vnp_BankCode": ""}, "vnp_BankCode is empty"),
        "vnp_ExpireDate": ({**params, "vnp_ExpireDate": params["vnp_CreateDate"]}, "must be after vnp_CreateDate"),
        "vnp_Version": ({**params, "vnp_Version": "2.0.1"}, "vnp_Version must be 2.1.0"),
    }
    for name, (changed, detail) in cases.items():
        response, page = open_page(hand_signed_url(sandbox, changed))
        assert (response.status_code, page.texts.get("error-code")) == (400, "03"), name
        assert detail in page.texts["error-detail"], name
    assert open_page(hand_signed_url(sandbox, params))[0].status_code == 200  # the hand signature is right


def test_a_payment_past_its_deadline_is_refused(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    an_hour_ago = datetime.now(VN_TIME) - timedelta(hours=1)
    response, page = open_page(link_for(vnpay, sandbox, created_at=an_hour_ago).url)
    assert (response.status_code, page.texts["error-code"]) == (400, "11")


def test_a_transaction_reference_is_used_once(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox, 20_000)
    pending_other_amount = link_for(vnpay, sandbox, 30_000, txn_ref=link.txn_ref)
    open_page(link.url)
    assert open_page(pending_other_amount.url)[1].texts["error-code"] == "94"
    choose(link.url, "success")
    response, page = open_page(link.url)
    assert (response.status_code, page.texts["error-code"]) == (400, "94")


def test_the_choice_redirects_to_the_return_url_with_signed_results(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox, 20_000)
    location = choose(link.url, "failure", reason="13")
    assert location.startswith(sandbox.return_url + "?vnp_Amount=2000000&")
    fields = dict(pair.split("=", 1) for pair in query_of(location).split("&"))
    assert fields["vnp_ResponseCode"] == "13"
    assert fields["vnp_TransactionStatus"] == "02"
    assert list(fields)[-1] == "vnp_SecureHash"
    assert list(fields)[:-1] == sorted(list(fields)[:-1])
    assert vnpay.verify_callback(query_of(location)).outcome is PaymentOutcome.FAILED


def test_a_double_submission_redirects_again_and_sends_no_second_ipn(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox)
    _, page = open_page(link.url)
    first = httpx.post(sandbox.payment_url, data={"ticket": page.hidden["ticket"], "choice": "success"})
    second = httpx.post(sandbox.payment_url, data={"ticket": page.hidden["ticket"], "choice": "cancel"})
    assert first.status_code == second.status_code == 302
    assert first.headers["location"] == second.headers["location"]
    wait_until(lambda: sandbox.ipn_log(link.txn_ref)[0]["state"] == "delivered", what="the IPN")
    assert len(sandbox.ipn_log(link.txn_ref)) == 1
    assert sandbox.transaction(link.txn_ref)["state"] == "paid"


def test_choosing_after_the_deadline_fails_the_payment_with_code_11(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    link = link_for(vnpay, sandbox, expires_in=timedelta(seconds=3))
    _, page = open_page(link.url)
    wait_until(lambda: datetime.now(VN_TIME) > link.expires_at, timeout=10, what="the deadline to pass")
    answer = httpx.post(sandbox.payment_url, data={"ticket": page.hidden["ticket"], "choice": "success"})
    callback = vnpay.verify_callback(query_of(answer.headers["location"]))
    assert callback.response_code.value == "11"
    assert sandbox.transaction(link.txn_ref)["state"] == "failed"


def test_an_unknown_ticket_or_choice_is_refused(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    assert httpx.post(sandbox.payment_url, data={"ticket": "nope", "choice": "success"}).status_code == 404
    _, page = open_page(link_for(vnpay, sandbox).url)
    refused = httpx.post(sandbox.payment_url, data={"ticket": page.hidden["ticket"], "choice": "maybe"})
    assert refused.status_code == 400
    assert sandbox.transactions()[0]["state"] == "pending"


# -- IPN delivery ---------------------------------------------------------------------------------------------


def pay(client: VNPayClient, sandbox: VNPaySandbox, amount_vnd: int = 20_000, txn_ref: str | None = None) -> str:
    link = link_for(client, sandbox, amount_vnd, txn_ref=txn_ref or new_txn_ref())
    choose(link.url, "success")
    return link.txn_ref


def test_the_ipn_is_retried_until_the_merchant_confirms(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    txn_ref = new_txn_ref()
    sandbox.merchant.answer(txn_ref, "99", "97", "04", "01")
    pay(vnpay, sandbox, txn_ref=txn_ref)
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(txn_ref) if e["state"] == "delivered"], what="delivery")
    assert [a["rsp_code"] for a in entry["attempts"]] == ["99", "97", "04", "01", "00"]
    calls = sandbox.merchant.calls(txn_ref)
    assert len(calls) == 5 and len({c.raw_query for c in calls}) == 1


def test_rsp_code_02_ends_the_delivery_too(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    txn_ref = new_txn_ref()
    sandbox.merchant.answer(txn_ref, "02")
    pay(vnpay, sandbox, txn_ref=txn_ref)
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(txn_ref) if e["state"] == "delivered"], what="delivery")
    assert [a["rsp_code"] for a in entry["attempts"]] == ["02"]


def test_an_http_error_or_a_body_without_rspcode_is_retried(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    txn_ref = new_txn_ref()
    sandbox.merchant.answer(txn_ref, 500, 200)
    pay(vnpay, sandbox, txn_ref=txn_ref)
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(txn_ref) if e["state"] == "delivered"], what="delivery")
    assert [(a["status_code"], a["rsp_code"]) for a in entry["attempts"]] == [(500, None), (200, None), (200, "00")]


def test_delivery_gives_up_after_the_maximum_number_of_attempts(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_max_attempts=3)
    txn_ref = new_txn_ref()
    sandbox.merchant.answer(txn_ref, "99", "99", "99", "99")
    pay(vnpay, sandbox, txn_ref=txn_ref)
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(txn_ref) if e["state"] == "failed"], what="giving up")
    assert len(entry["attempts"]) == 3
    assert len(sandbox.merchant.calls(txn_ref)) == 3


def test_duplicate_sends_two_identical_signed_ipns(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_duplicate=True)
    txn_ref = pay(vnpay, sandbox)
    calls = wait_until(
        lambda: len(sandbox.merchant.calls(txn_ref)) == 2 and sandbox.merchant.calls(txn_ref), what="two IPNs"
    )
    assert calls[0].raw_query == calls[1].raw_query
    assert vnpay.verify_callback(calls[0].raw_query).txn_ref == txn_ref
    assert [e["duplicate"] for e in sandbox.ipn_log(txn_ref)] == [False, True]


def test_reorder_holds_the_pending_ipns_and_delivers_them_newest_first(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    sandbox.configure(ipn_reorder=True, ipn_reorder_window_seconds=120)
    paid_in_order = [pay(vnpay, sandbox, amount) for amount in (10_000, 20_000, 30_000)]
    assert [e["state"] for e in sandbox.ipn_log()] == ["held", "held", "held"]
    assert sandbox.merchant.calls(*paid_in_order) == []

    assert sandbox.control.post("/_sim/ipn/release").json() == {"released": 3}
    calls = wait_until(
        lambda: len(sandbox.merchant.calls(*paid_in_order)) == 3 and sandbox.merchant.calls(*paid_in_order),
        what="three IPNs",
    )
    received = [vnpay.verify_callback(c.raw_query).txn_ref for c in calls]
    assert received == list(reversed(paid_in_order))


def test_reorder_releases_by_itself_when_the_window_closes(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_reorder=True, ipn_reorder_window_seconds=2)
    first, second = pay(vnpay, sandbox), pay(vnpay, sandbox)
    assert [e["state"] for e in sandbox.ipn_log()] == ["held", "held"]  # both paid inside the window
    calls = wait_until(
        lambda: len(sandbox.merchant.calls(first, second)) == 2 and sandbox.merchant.calls(first, second),
        what="two IPNs",
    )
    assert [vnpay.verify_callback(c.raw_query).txn_ref for c in calls] == [second, first]


def test_delay_holds_the_first_attempt_back(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_delay_seconds=0.6)
    txn_ref = pay(vnpay, sandbox)
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(txn_ref) if e["state"] == "delivered"], what="delivery")
    queued = datetime.fromisoformat(entry["queued_at"])
    first_attempt = datetime.fromisoformat(entry["attempts"][0]["at"])
    assert first_attempt - queued >= timedelta(seconds=0.6)


def test_bad_signature_spoils_only_the_checksum(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_bad_signature=True, ipn_max_attempts=2)
    txn_ref = new_txn_ref()
    sandbox.merchant.answer(txn_ref, "97", "97")
    link = link_for(vnpay, sandbox, txn_ref=txn_ref)
    location = choose(link.url, "success")
    (entry,) = wait_until(lambda: [e for e in sandbox.ipn_log(link.txn_ref) if e["state"] == "failed"], what="failure")
    assert entry["bad_signature"] is True
    good_data, _, good_hash = query_of(location).rpartition("&vnp_SecureHash=")
    bad_data, _, bad_hash = entry["query"].rpartition("&vnp_SecureHash=")
    assert bad_data == good_data and bad_hash != good_hash and len(bad_hash) == 128


def test_drop_records_the_ipn_but_never_sends_it(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    sandbox.configure(ipn_drop=True)
    txn_ref = pay(vnpay, sandbox)
    (entry,) = sandbox.ipn_log(txn_ref)
    assert (entry["state"], entry["attempts"]) == ("dropped", [])
    assert sandbox.transaction(txn_ref)["state"] == "paid"  # querydr will tell the merchant


def test_a_merchant_without_an_ipn_url_gets_no_ipn(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    with sandbox.client(tmn_code=OTHER_TMN_CODE, hash_secret=OTHER_SECRET) as other:
        txn_ref = pay(other, sandbox)
    assert sandbox.transaction(txn_ref)["state"] == "paid"
    assert sandbox.ipn_log(txn_ref) == []


# -- the web API, beyond what our client sends -----------------------------------------------------------------


def post_api(sandbox: VNPaySandbox, body: object) -> dict[str, object]:
    response = httpx.post(
        sandbox.api_url, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    return response.json()


def query_body(vnpay: VNPayClient, sandbox: VNPaySandbox) -> dict[str, str]:
    link = link_for(vnpay, sandbox)
    choose(link.url, "success")
    return vnpay.build_query_request(txn_ref=link.txn_ref, transaction_date=link.create_date)


def test_the_api_refuses_what_is_not_a_signed_request(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    assert post_api(sandbox, ["not", "an", "object"])["vnp_ResponseCode"] == "03"
    assert post_api(sandbox, {"vnp_Command": "pay"})["vnp_ResponseCode"] == "03"
    body = query_body(vnpay, sandbox)
    assert post_api(sandbox, {**body, "vnp_TxnRef": "SOMEONEELSE"})["vnp_ResponseCode"] == "97"
    missing = {k: v for k, v in body.items() if k != "vnp_IpAddr"}
    assert post_api(sandbox, missing)["vnp_ResponseCode"] == "03"
    answer = post_api(sandbox, body)
    assert answer["vnp_ResponseCode"] == "00"
    assert isinstance(answer["vnp_SecureHash"], str) and len(answer["vnp_SecureHash"]) == 128


def test_the_api_accepts_numbers_where_npm_style_clients_send_them(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    body: dict[str, object] = dict(query_body(vnpay, sandbox))
    body["vnp_TransactionDate"] = int(str(body["vnp_TransactionDate"]))
    body["vnp_CreateDate"] = int(str(body["vnp_CreateDate"]))
    assert post_api(sandbox, body)["vnp_ResponseCode"] == "00"


def test_a_refund_naming_another_vnpay_transaction_number_is_not_found(
    vnpay: VNPayClient, sandbox: VNPaySandbox
) -> None:
    link = link_for(vnpay, sandbox)
    choose(link.url, "success")
    result = vnpay.refund(
        txn_ref=link.txn_ref,
        amount_vnd=1_000,
        kind=RefundKind.PARTIAL,
        transaction_date=link.create_date,
        created_by="admin",
        transaction_no="99999999",
    )
    assert result.response_code.value == "91"


# -- control endpoints and configuration ------------------------------------------------------------------------


def test_transactions_can_be_filtered_for_the_daily_comparison(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    kept = pay(vnpay, sandbox, 10_000)
    choose(link_for(vnpay, sandbox).url, "cancel")
    today = datetime.now(VN_TIME).strftime("%Y%m%d")
    assert [r["txn_ref"] for r in sandbox.transactions(state="paid", pay_day=today)] == [kept]
    assert sandbox.transactions(pay_day="20000101") == []
    record = sandbox.transaction(kept)
    assert (record["amount_vnd"], record["refunded_vnd"], record["net_vnd"]) == (10_000, 0, 10_000)


def test_knobs_are_checked_and_secrets_are_never_shown(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    assert sandbox.control.put("/_sim/config", json={"merchants": []}).status_code == 400
    assert sandbox.control.put("/_sim/config", json={"api_error_rate": 2}).status_code == 422
    assert sandbox.control.put("/_sim/config", json={"ipn_max_attempts": 0}).status_code == 422
    assert sandbox.configure(ipn_delay_seconds=1.5)["ipn_delay_seconds"] == 1.5
    shown = sandbox.control.get("/_sim/config").text + sandbox.control.get("/_sim/merchants").text
    assert HASH_SECRET not in shown and OTHER_SECRET not in shown
    assert TMN_CODE in shown


def test_merchants_can_be_registered_and_changed_at_runtime(sandbox: VNPaySandbox) -> None:
    sandbox.reset()
    created = sandbox.control.put(
        "/_sim/merchants/NEWSHOP1", json={"hash_secret": "NEW-SECRET", "ipn_url": sandbox.merchant_url + "/ipn"}
    )
    assert created.json() == {"tmn_code": "NEWSHOP1", "name": "", "ipn_url": sandbox.merchant_url + "/ipn"}
    with sandbox.client(tmn_code="NEWSHOP1", hash_secret="NEW-SECRET") as shop:
        txn_ref = pay(shop, sandbox)
        (call,) = wait_until(lambda: sandbox.merchant.calls(txn_ref), what="the IPN")
        assert shop.verify_callback(call.raw_query).txn_ref == txn_ref
    renamed = sandbox.control.put("/_sim/merchants/NEWSHOP1", json={"name": "Cửa hàng mới"})
    assert renamed.json()["ipn_url"] == sandbox.merchant_url + "/ipn"
    assert sandbox.control.put("/_sim/merchants/BAD", json={"hash_secret": "x"}).status_code == 422
    assert sandbox.control.put("/_sim/merchants/NEWSHOP2", json={"ipn_url": "ftp://x"}).status_code == 422


def test_reset_forgets_everything(vnpay: VNPayClient, sandbox: VNPaySandbox) -> None:
    pay(vnpay, sandbox)
    sandbox.control.post("/_sim/reset").raise_for_status()
    assert sandbox.transactions() == [] and sandbox.ipn_log() == []


def test_configuration_comes_from_the_environment() -> None:
    config = SimConfig.from_env(
        {
            "VNPAYSIM_MERCHANTS": json.dumps(
                [{"tmn_code": "SHOP0001", "hash_secret": "s1", "ipn_url": "https://shop.example/ipn", "name": "Shop"}]
            ),
            "VNPAYSIM_IPN_RETRY_SECONDS": "2.5",
            "VNPAYSIM_IPN_DUPLICATE": "true",
            "VNPAYSIM_IPN_MAX_ATTEMPTS": "4",
            "VNPAYSIM_SEED": "3",
        }
    )
    assert list(config.merchants) == ["SHOP0001"]
    assert (config.ipn_retry_seconds, config.ipn_duplicate, config.ipn_max_attempts, config.seed) == (2.5, True, 4, 3)
    assert list(SimConfig.from_env({}).merchants) == [DEMO_TMN_CODE]
    for bad in (
        {"VNPAYSIM_MERCHANTS": "not json"},
        {"VNPAYSIM_MERCHANTS": '[{"tmn_code": "SHORT", "hash_secret": "x"}]'},
        {"VNPAYSIM_API_ERROR_RATE": "1.5"},
        {"VNPAYSIM_IPN_DUPLICATE": "perhaps"},
    ):
        with pytest.raises(ValueError):
            SimConfig.from_env(bad)


def test_it_runs_alone_as_a_process_with_the_demo_merchant(tmp_path: Path) -> None:
    with bound_socket() as sock:
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNPAYSIM_")}
    log = (tmp_path / "vnpay-simulator.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.vnpay",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / "vnpay-simulator.log").read_text()
            try:
                return httpx.get(base + "/healthz", timeout=1).json() == {"status": "ok"}
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=30, what="the simulator process")
        with VNPayClient(
            tmn_code=DEMO_TMN_CODE,
            hash_secret=DEMO_HASH_SECRET,
            payment_url=base + PAYMENT_PATH,
            api_url=base + API_PATH,
        ) as demo:
            link = demo.build_payment_url(
                txn_ref="DEMO1", amount_vnd=10_000, order_info="Le phi", ip_addr="127.0.0.1", return_url=base + "/x/y"
            )
            assert httpx.get(link.url).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
