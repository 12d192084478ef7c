"""Our VNPay 2.1.0 client: payment URLs, return/IPN verification, querydr and refund.

Built from the protocol facts in the project's VNPay notes (no SDK): the query-string
checksum for payment URLs and callbacks, the `|`-joined checksum for the merchant web API,
amounts in integer VND (VNPay's wire value is VND x 100), timestamps on Vietnam's clock.

The hash secret is held by a `HashSecret`, which signs but never prints itself: it is in no
URL, request body, result, log line or exception message.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.core.http import make_http_client
from portal.core.settings import VnpaySettings

from .codes import (
    Locale,
    PaymentOutcome,
    QueryOutcome,
    QueryResponseCode,
    RefundKind,
    RefundResponseCode,
    ResponseCode,
    TransactionStatus,
    TransactionType,
    parse_code,
)
from .errors import (
    CallbackTooLarge,
    ForeignMerchant,
    GatewayProtocolError,
    GatewayUnavailable,
    InvalidAmount,
    InvalidGatewayRequest,
    InvalidParameter,
    InvalidSignature,
    MalformedCallback,
    MissingParameter,
    MissingSignature,
    RepeatedParameter,
    UnverifiedResponse,
)
from .wire import VN_TIME, HashSecret, form_decode, from_vnpay_time, pipe_data, sign_data, to_vnpay_time

log = logging.getLogger(__name__)

VERSION = "2.1.0"
CURRENCY = "VND"
DEFAULT_EXPIRY = timedelta(minutes=15)
#: `vnp_Amount` is Numeric[1,12] and carries VND x 100.
MAX_AMOUNT_VND = 9_999_999_999
#: A real return/IPN query is well under 1 KB; anything this large is refused unread.
MAX_CALLBACK_QUERY_BYTES = 8 * 1024
MAX_CALLBACK_PARAMETERS = 64

SIGNATURE_PARAMETERS = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})

#: The checksum orders of the merchant web API (`|`-joined values).
QUERY_REQUEST_FIELDS = (
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
QUERY_RESPONSE_FIELDS = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)
REFUND_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
REFUND_RESPONSE_FIELDS = QUERY_RESPONSE_FIELDS[:13]

_TMN_CODE = re.compile(r"[A-Za-z0-9]{8}")
_TXN_REF = re.compile(r"[A-Za-z0-9]{1,100}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_SHORT_CODE = re.compile(r"[A-Za-z0-9]{1,100}")
_BANK_CODE = re.compile(r"[A-Za-z0-9]{3,20}")
_WIRE_AMOUNT = re.compile(r"[1-9][0-9]{0,11}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_TRANSACTION_NO = re.compile(r"[0-9]{1,15}")
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9 \-_.:,/#]+")
_SPACES = re.compile(r" {2,}")
_API_TEXT = re.compile(r"[\x20-\x7b\x7d\x7e]+")  # printable ASCII without `|`


def plain_text(text: str, *, limit: int = 255) -> str:
    """Free text as VNPay asks for it: Vietnamese without diacritics, no special characters.

    `Lệ phí đăng ký thường trú` becomes `Le phi dang ky thuong tru`. Only `A-Z a-z 0-9`, space
    and `- _ . : , / #` remain: on those every known implementation of the checksum agrees.
    """
    undotted = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", undotted) if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NOT_PLAIN.sub(" ", bare)).strip()[:limit].rstrip()


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentUrl:
    """A signed payment URL and what it says. `params` is what was signed (for the message log)."""

    url: str
    txn_ref: str
    amount_vnd: int
    created_at: datetime
    expires_at: datetime
    params: Mapping[str, str]

    @property
    def create_date(self) -> str:
        """`vnp_CreateDate`, which querydr and refund name as `vnp_TransactionDate`."""
        return self.params["vnp_CreateDate"]


@dataclass(frozen=True)
class VerifiedCallback:
    """A return-URL or IPN query whose checksum and TmnCode are ours. `fields` is all that came."""

    tmn_code: str
    txn_ref: str
    amount_vnd: int
    response_code: ResponseCode
    transaction_status: TransactionStatus
    transaction_no: str
    bank_code: str | None
    bank_tran_no: str | None
    card_type: str | None
    pay_date: datetime | None
    order_info: str | None
    fields: Mapping[str, str]

    @property
    def outcome(self) -> PaymentOutcome:
        # Paid only when both codes say so (VNPay's .NET sample; the PHP sample's OR is too lax).
        if self.response_code is ResponseCode.SUCCESS and self.transaction_status is TransactionStatus.SUCCESS:
            return PaymentOutcome.PAID
        if self.response_code is ResponseCode.CANCELLED_BY_CUSTOMER:
            return PaymentOutcome.CANCELLED
        if self.transaction_status is TransactionStatus.NOT_COMPLETED:
            return PaymentOutcome.PENDING
        return PaymentOutcome.FAILED


@dataclass(frozen=True)
class ApiExchange:
    """The raw messages of one web-API call, for the append-only gateway log (no secret in them)."""

    request: Mapping[str, str]
    response: Mapping[str, Any]


@dataclass(frozen=True)
class TransactionQueryResult:
    response_code: QueryResponseCode
    message: str
    txn_ref: str
    amount_vnd: int | None
    transaction_no: str | None
    transaction_type: TransactionType | None
    transaction_status: TransactionStatus | None
    bank_code: str | None
    pay_date: datetime | None
    exchange: ApiExchange

    @property
    def outcome(self) -> QueryOutcome:
        if self.response_code is QueryResponseCode.TRANSACTION_NOT_FOUND:
            return QueryOutcome.NOT_FOUND
        if self.response_code is not QueryResponseCode.SUCCESS:
            return QueryOutcome.NOT_ANSWERED
        if self.transaction_status is TransactionStatus.SUCCESS:
            return QueryOutcome.PAID
        if self.transaction_status is TransactionStatus.NOT_COMPLETED:
            return QueryOutcome.PENDING
        if self.transaction_status in (TransactionStatus.FAILED, TransactionStatus.REVERSED):
            return QueryOutcome.FAILED
        return QueryOutcome.NEEDS_REVIEW


@dataclass(frozen=True)
class RefundResult:
    response_code: RefundResponseCode
    message: str
    txn_ref: str
    amount_vnd: int | None
    transaction_no: str | None
    transaction_type: TransactionType | None
    transaction_status: TransactionStatus | None
    bank_code: str | None
    pay_date: datetime | None
    exchange: ApiExchange

    @property
    def accepted(self) -> bool:
        return self.response_code is RefundResponseCode.SUCCESS


# -- the client --------------------------------------------------------------------------------


class VNPayClient:
    """One merchant terminal (TmnCode) at VNPay.

    `payment_url` is the payment page (`.../paymentv2/vpcpay.html`), `api_url` the merchant web
    API endpoint (`.../merchant_webapi/api/transaction`). `server_ip` is the address the web API
    is told it is called from. `clock` returns an aware "now" (tests pin it).
    """

    def __init__(
        self,
        *,
        tmn_code: str,
        hash_secret: str,
        payment_url: str,
        api_url: str,
        server_ip: str = "127.0.0.1",
        http: httpx.Client | None = None,
        timeout_seconds: float = 15.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not _TMN_CODE.fullmatch(tmn_code):
            raise ValueError("the VNPay TmnCode is 8 letters or digits")
        self.tmn_code = tmn_code
        self._secret = HashSecret(hash_secret)
        self.payment_url = _absolute_url(payment_url, "the VNPay payment URL", query_allowed=False)
        self.api_url = _absolute_url(api_url, "the VNPay API URL", query_allowed=True)
        self.server_ip = _ip_address(server_ip, "server_ip")
        self._owns_http = http is None
        self._http = http if http is not None else make_http_client(timeout_seconds=timeout_seconds)
        self._clock = clock or (lambda: datetime.now(VN_TIME))

    @classmethod
    def from_settings(cls, vnpay: VnpaySettings, *, http: httpx.Client | None = None) -> VNPayClient:
        return cls(
            tmn_code=vnpay.tmn_code,
            hash_secret=vnpay.hash_secret,
            payment_url=vnpay.payment_url,
            api_url=vnpay.api_url,
            http=http,
            timeout_seconds=vnpay.timeout_seconds,
        )

    def __repr__(self) -> str:
        return f"VNPayClient(tmn_code={self.tmn_code!r}, payment_url={self.payment_url!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> VNPayClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return moment

    # -- payment URL -----------------------------------------------------------------------

    def build_payment_url(
        self,
        *,
        txn_ref: str,
        amount_vnd: int,
        order_info: str,
        ip_addr: str,
        return_url: str,
        created_at: datetime | None = None,
        expires_in: timedelta = DEFAULT_EXPIRY,
        locale: Locale = Locale.VIETNAMESE,
        order_type: str = "other",
        bank_code: str | None = None,
    ) -> PaymentUrl:
        """The signed URL to send the customer to. `order_info` is reduced to `plain_text`."""
        _check(txn_ref, _TXN_REF, "txn_ref", "1 to 100 letters or digits")
        _check_amount(amount_vnd)
        description = plain_text(order_info)
        if not description:
            raise InvalidGatewayRequest("order_info", "nothing is left after removing diacritics and symbols")
        ip = _ip_address(ip_addr, "ip_addr")
        target = _absolute_url(return_url, "return_url", query_allowed=False, error=InvalidGatewayRequest)
        if not 10 <= len(target) <= 255:
            raise InvalidGatewayRequest("return_url", "must be 10 to 255 characters")
        _check(order_type, _SHORT_CODE, "order_type", "1 to 100 letters or digits")
        if bank_code is not None:
            _check(bank_code, _BANK_CODE, "bank_code", "3 to 20 letters or digits")
        if expires_in <= timedelta(0):
            raise InvalidGatewayRequest("expires_in", "must be positive")
        moment = created_at if created_at is not None else self._now()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidGatewayRequest("created_at", "must be timezone-aware")
        created = moment.astimezone(VN_TIME).replace(microsecond=0)
        expires = created + expires_in

        params = {
            "vnp_Version": VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(amount_vnd * 100),
            "vnp_CurrCode": CURRENCY,
            "vnp_TxnRef": txn_ref,
            "vnp_OrderInfo": description,
            "vnp_OrderType": order_type,
            "vnp_Locale": Locale(locale).value,
            "vnp_ReturnUrl": target,
            "vnp_IpAddr": ip,
            "vnp_CreateDate": to_vnpay_time(created),
            "vnp_ExpireDate": to_vnpay_time(expires),
        }
        if bank_code is not None:
            params["vnp_BankCode"] = bank_code
        data = sign_data(params)
        # The query is byte-identical to the signed data; the hash is hex and needs no encoding.
        url = f"{self.payment_url}?{data}&vnp_SecureHash={self._secret.sign(data)}"
        log.info("VNPay payment URL built for %s (%d VND, expires %s)", txn_ref, amount_vnd, params["vnp_ExpireDate"])
        return PaymentUrl(
            url=url,
            txn_ref=txn_ref,
            amount_vnd=amount_vnd,
            created_at=created,
            expires_at=expires,
            params=MappingProxyType(params),
        )

    # -- return URL and IPN ------------------------------------------------------------------

    def verify_callback(self, query: str | bytes) -> VerifiedCallback:
        """Verify the raw query string of a return-URL or IPN request (with or without `?`).

        Raises a `CallbackRejected` subclass naming what is wrong; its `reply` is the IPN answer.
        The checksum is checked before any value is looked at.
        """
        params = _parse_callback_query(query)
        received = params.get("vnp_SecureHash")
        if not received:
            raise MissingSignature("the query carries no vnp_SecureHash")
        signed = {k: v for k, v in params.items() if k.startswith("vnp_") and k not in SIGNATURE_PARAMETERS}
        if not self._secret.verifies(sign_data(signed), received):
            raise InvalidSignature("vnp_SecureHash does not match the parameters")

        def required(name: str) -> str:
            value = signed.get(name)
            if not value:
                raise MissingParameter(name)
            return value

        tmn_code = required("vnp_TmnCode")
        if tmn_code != self.tmn_code:
            raise ForeignMerchant(tmn_code)
        txn_ref = required("vnp_TxnRef")
        if len(txn_ref) > 100:
            raise InvalidParameter("vnp_TxnRef", "longer than 100 characters")
        try:
            amount_vnd = amount_from_wire(required("vnp_Amount"))
        except ValueError as exc:
            raise InvalidAmount("vnp_Amount", str(exc)) from None
        response_code = _callback_code(ResponseCode, "vnp_ResponseCode", required("vnp_ResponseCode"))
        status = _callback_code(TransactionStatus, "vnp_TransactionStatus", required("vnp_TransactionStatus"))
        transaction_no = required("vnp_TransactionNo")
        if not _TRANSACTION_NO.fullmatch(transaction_no):
            raise InvalidParameter("vnp_TransactionNo", "not 1 to 15 digits")
        pay_date = None
        if raw_date := signed.get("vnp_PayDate"):
            try:
                pay_date = from_vnpay_time(raw_date)
            except ValueError as exc:
                raise InvalidParameter("vnp_PayDate", str(exc)) from None
        return VerifiedCallback(
            tmn_code=tmn_code,
            txn_ref=txn_ref,
            amount_vnd=amount_vnd,
            response_code=response_code,
            transaction_status=status,
            transaction_no=transaction_no,
            bank_code=signed.get("vnp_BankCode") or None,
            bank_tran_no=signed.get("vnp_BankTranNo") or None,
            card_type=signed.get("vnp_CardType") or None,
            pay_date=pay_date,
            order_info=signed.get("vnp_OrderInfo"),
            fields=MappingProxyType(dict(params)),
        )

    # -- merchant web API: querydr -------------------------------------------------------------

    def build_query_request(
        self,
        *,
        txn_ref: str,
        transaction_date: str | datetime,
        order_info: str | None = None,
        transaction_no: str | None = None,
        request_id: str | None = None,
        requested_at: datetime | None = None,
    ) -> dict[str, str]:
        """The signed JSON body of a querydr; `transaction_date` is the payment's `vnp_CreateDate`."""
        _check(txn_ref, _TXN_REF, "txn_ref", "1 to 100 letters or digits")
        body = {
            "vnp_RequestId": _request_id(request_id),
            "vnp_Version": VERSION,
            "vnp_Command": "querydr",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": txn_ref,
            "vnp_OrderInfo": _api_description(order_info, f"Truy van GD {txn_ref}"),
            "vnp_TransactionDate": _transaction_date(transaction_date),
            "vnp_CreateDate": to_vnpay_time(requested_at or self._now()),
            "vnp_IpAddr": self.server_ip,
        }
        if transaction_no is not None:  # not covered by the checksum
            _check(transaction_no, _TRANSACTION_NO, "transaction_no", "1 to 15 digits")
            body["vnp_TransactionNo"] = transaction_no
        body["vnp_SecureHash"] = self._secret.sign(pipe_data(body[name] for name in QUERY_REQUEST_FIELDS))
        return body

    def query_transaction(
        self,
        *,
        txn_ref: str,
        transaction_date: str | datetime,
        order_info: str | None = None,
        transaction_no: str | None = None,
        request_id: str | None = None,
    ) -> TransactionQueryResult:
        """Ask VNPay what became of a payment (querydr). The answer's checksum is verified."""
        request = self.build_query_request(
            txn_ref=txn_ref,
            transaction_date=transaction_date,
            order_info=order_info,
            transaction_no=transaction_no,
            request_id=request_id,
        )
        response = self._call(request)
        fields = self._verified_fields(response, QUERY_RESPONSE_FIELDS, request)
        code = _api_code(QueryResponseCode, fields["vnp_ResponseCode"])
        result = TransactionQueryResult(
            response_code=code,
            message=fields["vnp_Message"],
            txn_ref=fields["vnp_TxnRef"] or txn_ref,
            amount_vnd=_api_amount(fields["vnp_Amount"]),
            transaction_no=fields["vnp_TransactionNo"] or None,
            transaction_type=_api_optional_code(TransactionType, fields, "vnp_TransactionType"),
            transaction_status=_api_optional_code(TransactionStatus, fields, "vnp_TransactionStatus"),
            bank_code=fields["vnp_BankCode"] or None,
            pay_date=_api_time(fields["vnp_PayDate"]),
            exchange=ApiExchange(request=MappingProxyType(request), response=MappingProxyType(response)),
        )
        log.info("VNPay querydr %s: %s (%s)", txn_ref, code.value, result.outcome.value)
        return result

    # -- merchant web API: refund -----------------------------------------------------------------

    def build_refund_request(
        self,
        *,
        txn_ref: str,
        amount_vnd: int,
        kind: RefundKind,
        transaction_date: str | datetime,
        created_by: str,
        transaction_no: str | None = None,
        order_info: str | None = None,
        request_id: str | None = None,
        requested_at: datetime | None = None,
    ) -> dict[str, str]:
        """The signed JSON body of a refund. `transaction_no` is VNPay's, `"0"` when unknown."""
        _check(txn_ref, _TXN_REF, "txn_ref", "1 to 100 letters or digits")
        _check_amount(amount_vnd)
        if transaction_no is not None:
            _check(transaction_no, _TRANSACTION_NO, "transaction_no", "1 to 15 digits")
        if not isinstance(created_by, str) or not _API_TEXT.fullmatch(created_by) or len(created_by) > 255:
            raise InvalidGatewayRequest("created_by", "1 to 255 printable ASCII characters, no '|'")
        body = {
            "vnp_RequestId": _request_id(request_id),
            "vnp_Version": VERSION,
            "vnp_Command": "refund",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TransactionType": RefundKind(kind).value,
            "vnp_TxnRef": txn_ref,
            "vnp_Amount": str(amount_vnd * 100),
            "vnp_OrderInfo": _api_description(order_info, f"Hoan tien GD {txn_ref}"),
            "vnp_TransactionNo": transaction_no or "0",
            "vnp_TransactionDate": _transaction_date(transaction_date),
            "vnp_CreateBy": created_by,
            "vnp_CreateDate": to_vnpay_time(requested_at or self._now()),
            "vnp_IpAddr": self.server_ip,
        }
        body["vnp_SecureHash"] = self._secret.sign(pipe_data(body[name] for name in REFUND_REQUEST_FIELDS))
        return body

    def refund(
        self,
        *,
        txn_ref: str,
        amount_vnd: int,
        kind: RefundKind,
        transaction_date: str | datetime,
        created_by: str,
        transaction_no: str | None = None,
        order_info: str | None = None,
        request_id: str | None = None,
    ) -> RefundResult:
        """Ask VNPay to refund all or part of a payment. A refusal is a result, not an exception."""
        request = self.build_refund_request(
            txn_ref=txn_ref,
            amount_vnd=amount_vnd,
            kind=kind,
            transaction_date=transaction_date,
            created_by=created_by,
            transaction_no=transaction_no,
            order_info=order_info,
            request_id=request_id,
        )
        response = self._call(request)
        fields = self._verified_fields(response, REFUND_RESPONSE_FIELDS, request)
        code = _api_code(RefundResponseCode, fields["vnp_ResponseCode"])
        result = RefundResult(
            response_code=code,
            message=fields["vnp_Message"],
            txn_ref=fields["vnp_TxnRef"] or txn_ref,
            amount_vnd=_api_amount(fields["vnp_Amount"]),
            transaction_no=fields["vnp_TransactionNo"] or None,
            transaction_type=_api_optional_code(TransactionType, fields, "vnp_TransactionType"),
            transaction_status=_api_optional_code(TransactionStatus, fields, "vnp_TransactionStatus"),
            bank_code=fields["vnp_BankCode"] or None,
            pay_date=_api_time(fields["vnp_PayDate"]),
            exchange=ApiExchange(request=MappingProxyType(request), response=MappingProxyType(response)),
        )
        log.info("VNPay refund %s of %d VND (%s): %s", txn_ref, amount_vnd, RefundKind(kind).name, code.value)
        return result

    # -- web API transport --------------------------------------------------------------------------

    def _call(self, body: dict[str, str]) -> dict[str, Any]:
        command = body["vnp_Command"]
        try:
            response = self._http.post(
                self.api_url,
                content=json.dumps(body, separators=(",", ":")).encode("utf-8"),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise GatewayUnavailable(f"VNPay {command}: no answer in time ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"VNPay {command}: unreachable ({type(exc).__name__}: {exc})") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailable(
                f"VNPay {command}: HTTP {response.status_code}", retry_after=_retry_after(response)
            )
        if response.status_code != 200:
            raise GatewayProtocolError(f"VNPay {command}: unexpected HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise GatewayProtocolError(f"VNPay {command}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise GatewayProtocolError(f"VNPay {command}: the answer is not a JSON object")
        return answer

    def _verified_fields(
        self, response: dict[str, Any], order: tuple[str, ...], request: dict[str, str]
    ) -> dict[str, str]:
        """The checksummed fields as text, once the checksum is ours and the answer is for this request."""
        command = request["vnp_Command"]
        fields = {name: _wire_text(response, name, command) for name in order}
        code = fields["vnp_ResponseCode"][:8]
        received = response.get("vnp_SecureHash")
        if not isinstance(received, str) or not received:
            raise UnverifiedResponse(
                f"VNPay {command}: the answer (vnp_ResponseCode {code!r}) carries no checksum", response_code=code
            )
        if not self._secret.verifies(pipe_data(fields[name] for name in order), received):
            raise UnverifiedResponse(
                f"VNPay {command}: the answer's checksum (vnp_ResponseCode {code!r}) does not match; "
                "a 97 means VNPay did not accept ours either: check the merchant's hash secret",
                response_code=code,
            )
        for name, expected in (
            ("vnp_TmnCode", self.tmn_code),
            ("vnp_Command", command),
            ("vnp_TxnRef", request["vnp_TxnRef"]),
        ):
            if fields[name] and fields[name] != expected:
                raise GatewayProtocolError(
                    f"VNPay {command}: the answer is for {name} {fields[name][:100]!r}, not {expected!r}",
                    response_code=code,
                )
        return fields


# -- helpers -----------------------------------------------------------------------------------------


def amount_from_wire(raw: str) -> int:
    """`vnp_Amount` (VND x 100, as text) to integer VND; ValueError says what is wrong."""
    if not _WIRE_AMOUNT.fullmatch(raw):
        raise ValueError("not a positive whole number of at most 12 digits")
    hundredths = int(raw)
    if hundredths % 100:
        raise ValueError("not a whole number of VND (VND x 100 ends in 00)")
    return hundredths // 100


def _check(value: object, pattern: re.Pattern[str], field: str, rule: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidGatewayRequest(field, f"must be {rule}")


def _check_amount(amount_vnd: object) -> None:
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
        raise InvalidGatewayRequest("amount_vnd", "must be an integer number of VND")
    if not 1 <= amount_vnd <= MAX_AMOUNT_VND:
        raise InvalidGatewayRequest("amount_vnd", f"must be between 1 and {MAX_AMOUNT_VND:,} VND")


def _absolute_url(
    value: str, what: str, *, query_allowed: bool, error: type[InvalidGatewayRequest] | None = None
) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    problem = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "must be an absolute http(s) URL"
    elif parts.fragment or (parts.query and not query_allowed) or value.endswith("?"):
        problem = "must have no query string or fragment"
    if problem is None:
        return value
    if error is not None:
        raise error(what, problem)
    raise ValueError(f"{what} {problem}")


def _ip_address(value: str, field: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except (ValueError, TypeError):
        raise InvalidGatewayRequest(field, "must be an IPv4 or IPv6 address") from None


def _request_id(value: str | None) -> str:
    if value is None:
        return uuid.uuid4().hex
    _check(value, _REQUEST_ID, "request_id", "1 to 32 letters or digits")
    return value


def _api_description(value: str | None, default: str) -> str:
    text = plain_text(value) if value is not None else default
    if not text:
        raise InvalidGatewayRequest("order_info", "nothing is left after removing diacritics and symbols")
    return text


def _transaction_date(value: str | datetime) -> str:
    if isinstance(value, datetime):
        try:
            return to_vnpay_time(value)
        except ValueError as exc:
            raise InvalidGatewayRequest("transaction_date", str(exc)) from None
    try:
        from_vnpay_time(value)
    except (TypeError, ValueError):
        raise InvalidGatewayRequest(
            "transaction_date", "must be the payment's vnp_CreateDate, yyyyMMddHHmmss"
        ) from None
    return value


def _parse_callback_query(query: str | bytes) -> dict[str, str]:
    if isinstance(query, (bytes, bytearray, memoryview)):
        raw = bytes(query)
        if len(raw) > MAX_CALLBACK_QUERY_BYTES:
            raise CallbackTooLarge(f"the query is {len(raw):,} bytes; VNPay sends well under 1 KB")
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedCallback("the query holds bytes that are not percent-encoded") from None
    else:
        text = query
        if len(text) > MAX_CALLBACK_QUERY_BYTES:
            raise CallbackTooLarge(f"the query is {len(text):,} characters; VNPay sends well under 1 KB")
    text = text.removeprefix("?")
    if not text:
        raise MissingSignature("the query is empty")
    pairs = text.split("&")
    if len(pairs) > MAX_CALLBACK_PARAMETERS:
        raise CallbackTooLarge(f"the query has {len(pairs)} parameters; VNPay sends about a dozen")
    params: dict[str, str] = {}
    for pair in pairs:
        raw_name, sep, raw_value = pair.partition("=")
        if not sep or not raw_name:
            raise MalformedCallback(f"{pair[:40]!r} is not name=value")
        try:
            name, value = form_decode(raw_name), form_decode(raw_value)
        except ValueError:
            raise MalformedCallback(f"parameter {raw_name[:40]!r} is not valid percent-encoded UTF-8") from None
        if name in params:
            raise RepeatedParameter(name[:40])
        params[name] = value
    return params


def _callback_code(kind: type[Any], name: str, raw: str) -> Any:
    member = parse_code(kind, raw) if _TWO_DIGITS.fullmatch(raw) else None
    if member is None:
        raise InvalidParameter(name, f"{raw[:8]!r} is not a code VNPay documents")
    return member


def _wire_text(response: dict[str, Any], name: str, command: str) -> str:
    value = response.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # some senders write numbers; the checksum is over their decimal text
    raise GatewayProtocolError(f"VNPay {command}: {name} is neither text nor a whole number")


def _api_code(kind: type[Any], raw: str) -> Any:
    member = parse_code(kind, raw)
    if member is None:
        raise GatewayProtocolError(
            f"VNPay answered vnp_ResponseCode {raw[:8]!r}, which it documents nowhere", response_code=raw[:8]
        )
    return member


def _api_optional_code(kind: type[Any], fields: dict[str, str], name: str) -> Any:
    raw = fields[name]
    if not raw:
        return None
    member = parse_code(kind, raw)
    if member is None:
        raise GatewayProtocolError(f"VNPay answered {name} {raw[:8]!r}, which it documents nowhere")
    return member


def _api_amount(raw: str) -> int | None:
    if not raw:
        return None
    try:
        return amount_from_wire(raw)
    except ValueError as exc:
        raise GatewayProtocolError(f"VNPay answered vnp_Amount {raw[:16]!r}: {exc}") from None


def _api_time(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return from_vnpay_time(raw)
    except ValueError:
        raise GatewayProtocolError(f"VNPay answered vnp_PayDate {raw[:16]!r}, not yyyyMMddHHmmss") from None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


__all__ = [
    "DEFAULT_EXPIRY",
    "MAX_AMOUNT_VND",
    "MAX_CALLBACK_QUERY_BYTES",
    "VERSION",
    "ApiExchange",
    "PaymentUrl",
    "RefundResult",
    "TransactionQueryResult",
    "VNPayClient",
    "VerifiedCallback",
    "amount_from_wire",
    "plain_text",
]
