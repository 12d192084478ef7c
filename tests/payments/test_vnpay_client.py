"""Our VNPay client, pinned to the published vectors and to VNPay's rules (no network here).

The vectors (fake credentials) are from the project's VNPay notes; they agree with VNPay's
official samples. Callbacks that need a valid checksum over odd values are signed in the
test itself with hmac + quote_plus (safe on the ASCII values used), not with the client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import pickle
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote_plus

import pytest

from payments.gateways.vnpay import (
    MAX_AMOUNT_VND,
    CallbackRejected,
    CallbackTooLarge,
    ForeignMerchant,
    InvalidAmount,
    InvalidGatewayRequest,
    InvalidParameter,
    InvalidSignature,
    IpnReply,
    Locale,
    MalformedCallback,
    MissingParameter,
    MissingSignature,
    PaymentOutcome,
    RefundKind,
    RepeatedParameter,
    ResponseCode,
    TransactionStatus,
    VNPayClient,
    plain_text,
)
from payments.gateways.vnpay.wire import VN_TIME, form_encode, sign_data

SECRET = "TESTSECRET0123456789ABCDEFGHIJKL"
TMN = "TESTTMN1"
SANDBOX_PAY = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
SANDBOX_API = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"

PAY_1 = {
    "signData": "vnp_Amount=1000000&vnp_Command=pay&vnp_CreateDate=20250115100405&vnp_CurrCode=VND&vnp_ExpireDate=20250115101905&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+ORDER0001&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fmerchant.example%2Fvnpay%2Freturn&vnp_TmnCode=TESTTMN1&vnp_TxnRef=ORDER0001&vnp_Version=2.1.0",
    "secureHash": "55aa862c4ceac372cbcff6e3daef6a5e9e10298f34722bd487e8ecd37ef9472618b7810a13c1b2ac404522c76b211013b7a05449987e0e9325a7685b6ae23532",
    "url": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?vnp_Amount=1000000&vnp_Command=pay&vnp_CreateDate=20250115100405&vnp_CurrCode=VND&vnp_ExpireDate=20250115101905&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+ORDER0001&vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fmerchant.example%2Fvnpay%2Freturn&vnp_TmnCode=TESTTMN1&vnp_TxnRef=ORDER0001&vnp_Version=2.1.0&vnp_SecureHash=55aa862c4ceac372cbcff6e3daef6a5e9e10298f34722bd487e8ecd37ef9472618b7810a13c1b2ac404522c76b211013b7a05449987e0e9325a7685b6ae23532",
}
IPN_1 = {
    "signData": "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14226112&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan+don+hang+thoi+gian%3A+2023-12-07+17%3A00%3A44&vnp_PayDate=20231207170112&vnp_ResponseCode=00&vnp_TmnCode=TESTTMN1&vnp_TransactionNo=14226112&vnp_TransactionStatus=00&vnp_TxnRef=166117",
    "query": "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14226112&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan+don+hang+thoi+gian%3A+2023-12-07+17%3A00%3A44&vnp_PayDate=20231207170112&vnp_ResponseCode=00&vnp_TmnCode=TESTTMN1&vnp_TransactionNo=14226112&vnp_TransactionStatus=00&vnp_TxnRef=166117&vnp_SecureHash=61cbd76eef8c2e8958252697e04996bad18fb1352aeb376d5b30ac5a42c95c727dfd4ee55ceb2b1102d34f627f2813244a61610bf55a59f677ce4f8e965fbc40",
    "secureHash": "61cbd76eef8c2e8958252697e04996bad18fb1352aeb376d5b30ac5a42c95c727dfd4ee55ceb2b1102d34f627f2813244a61610bf55a59f677ce4f8e965fbc40",
}
QUERYDR_1 = {
    "pipe": "REQ20250115103000|2.1.0|querydr|TESTTMN1|ORDER0001|20250115100405|20250115103000|10.0.0.5|Truy van GD ORDER0001",
    "hash": "0e04459a6f5a5dd35466c21127e4236366b736b81d2f963140dfa7a7e86863d45d41460bae7192c31f674696028d8ce54e4c3960c0504636bdad0972e51e477f",
}
# 2025-01-15 10:04:05 in Hanoi is 03:04:05 UTC.
CREATED_UTC = datetime(2025, 1, 15, 3, 4, 5, tzinfo=UTC)
IPN_FIELDS = dict(pair.split("=", 1) for pair in IPN_1["signData"].split("&"))


def make_client(**overrides: object) -> VNPayClient:
    options: dict[str, object] = {
        "tmn_code": TMN,
        "hash_secret": SECRET,
        "payment_url": SANDBOX_PAY,
        "api_url": SANDBOX_API,
        **overrides,
    }
    return VNPayClient(**options)  # type: ignore[arg-type]


def build_vector_url(client: VNPayClient | None = None, **overrides: object):  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {
        "txn_ref": "ORDER0001",
        "amount_vnd": 10_000,
        "order_info": "Thanh toan don hang ORDER0001",
        "ip_addr": "127.0.0.1",
        "return_url": "https://merchant.example/vnpay/return",
        "created_at": CREATED_UTC,
        **overrides,
    }
    return (client or make_client()).build_payment_url(**arguments)  # type: ignore[arg-type]


def signed_by_test(fields: dict[str, str], secret: str = SECRET) -> str:
    """A callback query signed independently of the client (values kept to quote_plus-safe ASCII)."""
    data = "&".join(f"{k}={quote_plus(v)}" for k, v in sorted(fields.items()))
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()
    return f"{data}&vnp_SecureHash={digest}"


def decoded_ipn(**changes: str | None) -> dict[str, str]:
    fields = {k: v.replace("+", " ").replace("%3A", ":") for k, v in IPN_FIELDS.items()}
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


# -- the published vectors --------------------------------------------------------------------------------


def test_payment_url_is_byte_identical_to_the_published_vector() -> None:
    link = build_vector_url()
    assert sign_data(link.params) == PAY_1["signData"]
    assert link.url == PAY_1["url"]
    assert link.url.endswith("&vnp_SecureHash=" + PAY_1["secureHash"])
    assert link.create_date == "20250115100405"
    assert link.expires_at - link.created_at == timedelta(minutes=15)


def test_published_ipn_verifies_and_reads_as_a_payment_of_ten_thousand_dong() -> None:
    callback = make_client().verify_callback(IPN_1["query"])
    assert sign_data({k: v for k, v in callback.fields.items() if k != "vnp_SecureHash"}) == IPN_1["signData"]
    assert callback.outcome is PaymentOutcome.PAID
    assert callback.amount_vnd == 10_000
    assert callback.txn_ref == "166117"
    assert callback.transaction_no == "14226112"
    assert callback.response_code is ResponseCode.SUCCESS
    assert callback.transaction_status is TransactionStatus.SUCCESS
    assert callback.bank_code == "NCB" and callback.bank_tran_no == "VNP14226112" and callback.card_type == "ATM"
    assert callback.order_info == "Thanh toan don hang thoi gian: 2023-12-07 17:00:44"
    assert callback.pay_date == datetime(2023, 12, 7, 17, 1, 12, tzinfo=VN_TIME)
    assert callback.fields["vnp_SecureHash"] == IPN_1["secureHash"]


def test_querydr_request_is_signed_over_its_nine_fields_as_published() -> None:
    body = make_client(server_ip="10.0.0.5").build_query_request(
        txn_ref="ORDER0001",
        transaction_date="20250115100405",
        order_info="Truy van GD ORDER0001",
        request_id="REQ20250115103000",
        requested_at=datetime(2025, 1, 15, 3, 30, 0, tzinfo=UTC),
    )
    assert "|".join(body[k] for k in QUERY_ORDER) == QUERYDR_1["pipe"]
    assert body["vnp_SecureHash"] == QUERYDR_1["hash"]
    assert "vnp_TransactionNo" not in body


QUERY_ORDER = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)


def test_refund_request_is_signed_over_its_thirteen_fields_in_vnpays_order() -> None:
    body = make_client(server_ip="10.0.0.5").build_refund_request(
        txn_ref="ORDER0001",
        amount_vnd=4_000,
        kind=RefundKind.PARTIAL,
        transaction_date="20250115100405",
        created_by="admin@trungtam.demo.vn",
        transaction_no="14226112",
        order_info="Hoàn lệ phí hồ sơ",
        request_id="RF20250116090000",
        requested_at=datetime(2025, 1, 16, 2, 0, 0, tzinfo=UTC),
    )
    pipe = (
        "RF20250116090000|2.1.0|refund|TESTTMN1|03|ORDER0001|400000|14226112|20250115100405"
        "|admin@trungtam.demo.vn|20250116090000|10.0.0.5|Hoan le phi ho so"
    )
    assert body["vnp_SecureHash"] == hmac.new(SECRET.encode(), pipe.encode(), hashlib.sha512).hexdigest()
    assert body["vnp_Amount"] == "400000"


def test_refund_without_vnpays_transaction_number_sends_zero() -> None:
    body = make_client().build_refund_request(
        txn_ref="ORDER0001",
        amount_vnd=10_000,
        kind=RefundKind.FULL,
        transaction_date="20250115100405",
        created_by="admin",
    )
    assert body["vnp_TransactionNo"] == "0"
    assert body["vnp_TransactionType"] == "02"
    assert len(body["vnp_RequestId"]) == 32


# -- building a payment URL -----------------------------------------------------------------------------


def test_form_encoding_is_phps_urlencode_not_pythons_quote_plus() -> None:
    assert form_encode("a b") == "a+b"
    assert form_encode("-_.") == "-_."
    assert form_encode("~*!()'") == "%7E%2A%21%28%29%27"  # quote_plus would keep ~
    assert form_encode(": / , + & = ? # % @") == "%3A+%2F+%2C+%2B+%26+%3D+%3F+%23+%25+%40"
    assert form_encode("đ Tiền") == "%C4%91+Ti%E1%BB%81n"


def test_times_are_hanoi_wall_clock_whatever_zone_they_come_in() -> None:
    plus_nine = timezone(timedelta(hours=9))
    link = build_vector_url(created_at=datetime(2025, 1, 15, 12, 4, 5, 987_654, tzinfo=plus_nine))
    assert link.params["vnp_CreateDate"] == "20250115100405"
    assert link.params["vnp_ExpireDate"] == "20250115101905"
    assert link.created_at == datetime(2025, 1, 15, 10, 4, 5, tzinfo=VN_TIME)


def test_expiry_is_configurable_and_must_be_in_the_future() -> None:
    link = build_vector_url(expires_in=timedelta(hours=1))
    assert link.params["vnp_ExpireDate"] == "20250115110405"
    with pytest.raises(InvalidGatewayRequest) as error:
        build_vector_url(expires_in=timedelta(0))
    assert error.value.field == "expires_in"


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(InvalidGatewayRequest) as error:
        build_vector_url(created_at=datetime(2025, 1, 15, 10, 4, 5))
    assert error.value.field == "created_at"


def test_without_a_time_the_clock_says_now() -> None:
    client = make_client(clock=lambda: CREATED_UTC)
    link = build_vector_url(client, created_at=None)
    assert link.url == PAY_1["url"]


@pytest.mark.parametrize(
    ("amount", "wire"),
    [(1, "100"), (2_000, "200000"), (10_000, "1000000"), (MAX_AMOUNT_VND, "999999999900")],
)
def test_amount_is_whole_vnd_times_one_hundred(amount: int, wire: str) -> None:
    assert build_vector_url(amount_vnd=amount).params["vnp_Amount"] == wire


@pytest.mark.parametrize("amount", [0, -2_000, MAX_AMOUNT_VND + 1, 19.99, 2000.0, True, "2000", None])
def test_an_amount_that_is_not_a_positive_whole_number_of_vnd_is_refused(amount: object) -> None:
    with pytest.raises(InvalidGatewayRequest) as error:
        build_vector_url(amount_vnd=amount)
    assert error.value.field == "amount_vnd"


def test_order_description_loses_its_diacritics_and_symbols_before_signing() -> None:
    link = build_vector_url(order_info="Lệ phí đăng ký thường trú — hồ sơ HN-2025/01 (Bờ Hồ) ĐỒNG!")
    assert link.params["vnp_OrderInfo"] == "Le phi dang ky thuong tru ho so HN-2025/01 Bo Ho DONG"
    assert plain_text("x" * 300) == "x" * 255
    with pytest.raises(InvalidGatewayRequest) as error:
        build_vector_url(order_info="—!!—")
    assert error.value.field == "order_info"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("txn_ref", "HN-0001"),
        ("txn_ref", ""),
        ("txn_ref", "A" * 101),
        ("ip_addr", "localhost"),
        ("return_url", "https://merchant.example/return?src=web"),
        ("return_url", "ftp://merchant.example/return"),
        ("return_url", "/vnpay/return"),
        ("bank_code", "N"),
        ("order_type", "bill payment"),
    ],
)
def test_malformed_payment_requests_are_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(InvalidGatewayRequest) as error:
        build_vector_url(**{field: value})
    assert error.value.field == field


def test_optional_bank_code_and_english_page_enter_the_signed_parameters() -> None:
    link = build_vector_url(bank_code="VNPAYQR", locale=Locale.ENGLISH)
    assert link.params["vnp_BankCode"] == "VNPAYQR"
    assert link.params["vnp_Locale"] == "en"
    assert "vnp_BankCode=VNPAYQR&vnp_Command=pay" in link.url
    assert "vnp_SecureHashType" not in link.url


@pytest.mark.parametrize(
    "options",
    [
        {"tmn_code": "SHORT"},
        {"hash_secret": "   "},
        {"payment_url": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html?x=1"},
        {"api_url": "sandbox.vnpayment.vn/merchant_webapi/api/transaction"},
    ],
)
def test_misconfiguration_stops_the_client_from_being_built(options: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        make_client(**options)


def test_a_secret_with_a_trailing_space_signs_like_the_trimmed_one() -> None:
    assert build_vector_url(make_client(hash_secret=SECRET + " \n")).url == PAY_1["url"]


# -- verifying a return URL or IPN ----------------------------------------------------------------------


def test_received_hash_in_upper_case_is_accepted() -> None:
    query = IPN_1["query"].replace(IPN_1["secureHash"], IPN_1["secureHash"].upper())
    assert make_client().verify_callback(query).amount_vnd == 10_000


def test_transport_form_does_not_matter_order_percent20_leading_question_mark_bytes() -> None:
    pairs = IPN_1["query"].split("&")
    shuffled = "&".join(reversed(pairs)).replace("+", "%20")
    client = make_client()
    assert client.verify_callback(shuffled).txn_ref == "166117"
    assert client.verify_callback("?" + IPN_1["query"]).txn_ref == "166117"
    assert client.verify_callback(IPN_1["query"].encode()).txn_ref == "166117"


def test_parameters_outside_vnp_and_the_hash_type_are_not_signed_and_do_not_matter() -> None:
    query = IPN_1["query"] + "&src=web&vnp_SecureHashType=HmacSHA512"
    callback = make_client().verify_callback(query)
    assert callback.fields["src"] == "web"


def test_a_tampered_amount_is_refused_as_an_invalid_signature() -> None:
    query = IPN_1["query"].replace("vnp_Amount=1000000", "vnp_Amount=100")
    with pytest.raises(InvalidSignature) as error:
        make_client().verify_callback(query)
    assert error.value.reply is IpnReply.INVALID_SIGNATURE
    assert error.value.reply.body == {"RspCode": "97", "Message": "Invalid signature"}


def test_a_forged_signature_is_refused() -> None:
    forged = hmac.new(b"guessed-secret", IPN_1["signData"].encode(), hashlib.sha512).hexdigest()
    with pytest.raises(InvalidSignature):
        make_client().verify_callback(IPN_1["query"].replace(IPN_1["secureHash"], forged))
    with pytest.raises(InvalidSignature):
        make_client().verify_callback(IPN_1["query"].replace(IPN_1["secureHash"], "zz" * 64))


def test_a_missing_signature_is_refused() -> None:
    without = IPN_1["query"].split("&vnp_SecureHash=")[0]
    for query in (without, without + "&vnp_SecureHash=", ""):
        with pytest.raises(MissingSignature) as error:
            make_client().verify_callback(query)
        assert error.value.reply is IpnReply.INVALID_SIGNATURE


def test_another_merchants_tmn_code_is_refused_even_when_signed_with_our_secret() -> None:
    with pytest.raises(ForeignMerchant) as error:
        make_client(tmn_code="OTHERTM2").verify_callback(IPN_1["query"])
    assert error.value.tmn_code == "TESTTMN1"
    assert error.value.reply is IpnReply.INVALID_SIGNATURE


def test_another_merchants_secret_does_not_verify() -> None:
    with pytest.raises(InvalidSignature):
        make_client(hash_secret="OTHERSECRET9876543210ZYXWVUTSRQP").verify_callback(IPN_1["query"])


def test_a_repeated_parameter_is_refused_even_if_the_first_copy_verifies() -> None:
    with pytest.raises(RepeatedParameter) as error:
        make_client().verify_callback(IPN_1["query"] + "&vnp_Amount=100")
    assert error.value.parameter == "vnp_Amount"
    assert error.value.reply is IpnReply.UNKNOWN_ERROR


@pytest.mark.parametrize("size", [100 * 1024, 8 * 1024 + 1])
def test_an_oversized_query_is_refused_unread(size: int) -> None:
    query = IPN_1["query"] + "&pad=" + "x" * (size - len(IPN_1["query"]) - 5)
    assert len(query) == size
    for form in (query, query.encode()):
        with pytest.raises(CallbackTooLarge) as error:
            make_client().verify_callback(form)
        assert error.value.reply is IpnReply.UNKNOWN_ERROR


def test_a_query_with_a_hundred_tiny_parameters_is_refused() -> None:
    with pytest.raises(CallbackTooLarge):
        make_client().verify_callback("&".join(f"p{i}=1" for i in range(100)))


@pytest.mark.parametrize(
    "query",
    [
        "vnp_Amount=%ZZ&vnp_SecureHash=00",
        "vnp_OrderInfo=%C3&vnp_SecureHash=00",
        "vnp_OrderInfo=Ti\u1ec1n&vnp_SecureHash=00",
        b"vnp_OrderInfo=Ti\xe1\xbb\x81n&vnp_SecureHash=00",
        "vnp_Amount&vnp_SecureHash=00",
        "vnp_Amount=1&&vnp_SecureHash=00",
        "=1&vnp_SecureHash=00",
    ],
)
def test_a_malformed_query_is_refused(query: str | bytes) -> None:
    with pytest.raises(MalformedCallback) as error:
        make_client().verify_callback(query)
    assert error.value.reply is IpnReply.UNKNOWN_ERROR


@pytest.mark.parametrize(
    "amount",
    ["10000x0", "1000050", "0", "-1000000", "1e6", "１０００００", " 1000000", "0001000000", "1" + "0" * 12],
)
def test_a_signed_amount_that_is_not_whole_vnd_times_100_is_an_invalid_amount(amount: str) -> None:
    with pytest.raises(InvalidAmount) as error:
        make_client().verify_callback(signed_by_test(decoded_ipn(vnp_Amount=amount)))
    assert error.value.reply is IpnReply.INVALID_AMOUNT
    assert error.value.reply.rsp_code == "04"


@pytest.mark.parametrize(
    ("changes", "error_type", "parameter"),
    [
        ({"vnp_TxnRef": None}, MissingParameter, "vnp_TxnRef"),
        ({"vnp_TmnCode": None}, MissingParameter, "vnp_TmnCode"),
        ({"vnp_Amount": None}, MissingParameter, "vnp_Amount"),
        ({"vnp_ResponseCode": "42"}, InvalidParameter, "vnp_ResponseCode"),
        ({"vnp_TransactionStatus": "0"}, InvalidParameter, "vnp_TransactionStatus"),
        ({"vnp_TransactionNo": "VNP1"}, InvalidParameter, "vnp_TransactionNo"),
        ({"vnp_PayDate": "2023-12-07"}, InvalidParameter, "vnp_PayDate"),
    ],
)
def test_signed_but_unusable_fields_are_refused_naming_the_parameter(
    changes: dict[str, str | None], error_type: type[CallbackRejected], parameter: str
) -> None:
    with pytest.raises(error_type) as error:
        make_client().verify_callback(signed_by_test(decoded_ipn(**changes)))
    assert error.value.parameter == parameter  # type: ignore[attr-defined]
    assert error.value.reply is IpnReply.UNKNOWN_ERROR


@pytest.mark.parametrize(
    ("response_code", "status", "outcome"),
    [
        ("00", "00", PaymentOutcome.PAID),
        ("24", "02", PaymentOutcome.CANCELLED),
        ("51", "02", PaymentOutcome.FAILED),
        ("00", "02", PaymentOutcome.FAILED),  # both must say success
        ("07", "00", PaymentOutcome.FAILED),
        ("99", "01", PaymentOutcome.PENDING),
    ],
)
def test_outcome_is_paid_only_when_response_code_and_transaction_status_both_say_so(
    response_code: str, status: str, outcome: PaymentOutcome
) -> None:
    fields = decoded_ipn(vnp_ResponseCode=response_code, vnp_TransactionStatus=status)
    assert make_client().verify_callback(signed_by_test(fields)).outcome is outcome


def test_a_cancelled_payment_without_bank_transaction_number_verifies() -> None:
    fields = decoded_ipn(
        vnp_ResponseCode="24",
        vnp_TransactionStatus="02",
        vnp_TransactionNo="0",
        vnp_BankCode="VNPAY",
        vnp_CardType="QRCODE",
        vnp_BankTranNo=None,
    )
    callback = make_client().verify_callback(signed_by_test(fields))
    assert callback.outcome is PaymentOutcome.CANCELLED
    assert callback.bank_tran_no is None and callback.transaction_no == "0"


# -- the secret stays secret ----------------------------------------------------------------------------


def test_the_hash_secret_appears_in_no_url_body_repr_log_line_or_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(hash_secret=SECRET)
    seen: list[str] = [repr(client), str(client), repr(vars(client))]
    seen.append(build_vector_url(client).url)
    seen.append(repr(client.verify_callback(IPN_1["query"])))
    seen.append(json.dumps(client.build_query_request(txn_ref="ORDER0001", transaction_date="20250115100405")))
    seen.append(
        json.dumps(
            client.build_refund_request(
                txn_ref="ORDER0001",
                amount_vnd=1_000,
                kind=RefundKind.PARTIAL,
                transaction_date="20250115100405",
                created_by="admin",
            )
        )
    )
    for bad in (IPN_1["query"].replace("1000000", "100"), IPN_1["query"] + "&vnp_Amount=1", "x" * 9000, ""):
        with pytest.raises(CallbackRejected) as error:
            client.verify_callback(bad)
        seen.extend([str(error.value), repr(error.value)])
    with pytest.raises(ForeignMerchant) as foreign:
        make_client(tmn_code="OTHERTM2").verify_callback(IPN_1["query"])
    seen.append(str(foreign.value))
    with pytest.raises(InvalidGatewayRequest) as refused:
        build_vector_url(client, amount_vnd=-1)
    seen.append(str(refused.value))
    seen.append(caplog.text)
    assert caplog.text  # the client did log
    for text in seen:
        assert SECRET not in text
        assert SECRET.lower() not in text.lower()
    with pytest.raises(TypeError):
        pickle.dumps(client._secret)


def test_the_demo_merchant_settings_are_the_simulators_demo_terminal():
    from portal.core.settings import load_settings
    from simulators.vnpay.config import DEMO_HASH_SECRET, DEMO_TMN_CODE

    vnpay = load_settings({}).vnpay
    assert (vnpay.tmn_code, vnpay.hash_secret) == (DEMO_TMN_CODE, DEMO_HASH_SECRET)
    client = VNPayClient.from_settings(vnpay)
    assert vnpay.hash_secret not in repr(client)
    client.close()
