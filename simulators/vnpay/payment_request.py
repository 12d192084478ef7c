"""Checking a `vnp_Command=pay` request the way the payment page must before showing it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from .checksum import checksum_matches
from .clock import read_stamp
from .config import Merchant, SimConfig

MAX_QUERY_BYTES = 16 * 1024

REQUIRED = (
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_CreateDate",
    "vnp_CurrCode",
    "vnp_IpAddr",
    "vnp_Locale",
    "vnp_OrderInfo",
    "vnp_OrderType",
    "vnp_ReturnUrl",
    "vnp_ExpireDate",
    "vnp_TxnRef",
    "vnp_SecureHash",
)
OPTIONAL = ("vnp_BankCode",)
OPTIONAL_PREFIXES = ("vnp_Bill_", "vnp_Inv_")

_ALNUM = re.compile(r"[A-Za-z0-9]+")
_AMOUNT = re.compile(r"[1-9][0-9]{0,11}")


class PageError(Exception):
    """The payment page refuses the request: shown to the customer with a code."""

    def __init__(self, code: str, detail: str | None = None, locale: str = "vn") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.locale = locale


@dataclass(frozen=True)
class PaymentRequest:
    merchant: Merchant
    txn_ref: str
    amount_vnd: int
    order_info: str
    create_date: str
    expire_date: datetime
    return_url: str
    locale: str
    ip_addr: str


def read_payment_request(raw_query: bytes, config: SimConfig, now: datetime) -> PaymentRequest:
    if len(raw_query) > MAX_QUERY_BYTES:
        raise PageError("03", "the query string is too long")
    try:
        pairs = parse_qsl(raw_query.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict")
    except ValueError:  # includes UnicodeDecodeError
        raise PageError("03", "the query string is not valid form-encoded UTF-8") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise PageError("03", f"parameter {name} is repeated")
        params[name] = value
    locale = params["vnp_Locale"] if params.get("vnp_Locale") in ("vn", "en") else "vn"

    def refuse(code: str, detail: str | None = None) -> PageError:
        return PageError(code, detail, locale)

    merchant = config.merchants.get(params.get("vnp_TmnCode", ""))
    if merchant is None:
        raise refuse("71", "unknown vnp_TmnCode")
    received = params.get("vnp_SecureHash", "")
    if not received or not checksum_matches(merchant.hash_secret, params, received):
        raise refuse("70")
    if "vnp_SecureHashType" in params:
        raise refuse("03", "vnp_Version 2.1.0 does not send vnp_SecureHashType")
    for name in REQUIRED:
        if not params.get(name):
            raise refuse("03", f"{name} is required")
    for name, value in params.items():
        if not name.startswith("vnp_"):
            continue
        if name not in REQUIRED and name not in OPTIONAL and not name.startswith(OPTIONAL_PREFIXES):
            raise refuse("03", f"unknown parameter {name}")
        if value == "":
            raise refuse("03", f"{name} is empty (leave absent parameters out)")

    if params["vnp_Version"] != "2.1.0":
        raise refuse("03", "vnp_Version must be 2.1.0")
    if params["vnp_Command"] != "pay":
        raise refuse("03", "vnp_Command must be pay")
    if params["vnp_CurrCode"] != "VND":
        raise refuse("03", "vnp_CurrCode must be VND")
    if params["vnp_Locale"] not in ("vn", "en"):
        raise refuse("03", "vnp_Locale must be vn or en")
    amount = params["vnp_Amount"]
    if not _AMOUNT.fullmatch(amount) or int(amount) % 100:
        raise refuse("03", "vnp_Amount must be the amount in VND times 100 (digits only, ending in 00)")
    txn_ref = params["vnp_TxnRef"]
    if not _ALNUM.fullmatch(txn_ref) or len(txn_ref) > 100:
        raise refuse("03", "vnp_TxnRef must be 1 to 100 letters or digits")
    if len(params["vnp_OrderInfo"]) > 255:
        raise refuse("03", "vnp_OrderInfo is longer than 255 characters")
    if len(params["vnp_OrderType"]) > 100:
        raise refuse("03", "vnp_OrderType is longer than 100 characters")
    if "vnp_BankCode" in params and not (
        _ALNUM.fullmatch(params["vnp_BankCode"]) and 3 <= len(params["vnp_BankCode"]) <= 20
    ):
        raise refuse("03", "vnp_BankCode must be 3 to 20 letters or digits")
    try:
        ipaddress.ip_address(params["vnp_IpAddr"])
    except ValueError:
        raise refuse("03", "vnp_IpAddr is not an IP address") from None
    return_url = params["vnp_ReturnUrl"]
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not 10 <= len(return_url) <= 255:
        raise refuse("03", "vnp_ReturnUrl must be an absolute http(s) URL of 10 to 255 characters")
    created = read_stamp(params["vnp_CreateDate"])
    expires = read_stamp(params["vnp_ExpireDate"])
    if created is None or expires is None:
        raise refuse("03", "vnp_CreateDate and vnp_ExpireDate are yyyyMMddHHmmss (GMT+7)")
    if expires <= created:
        raise refuse("03", "vnp_ExpireDate must be after vnp_CreateDate")
    if now > expires:
        raise refuse("11")
    return PaymentRequest(
        merchant=merchant,
        txn_ref=txn_ref,
        amount_vnd=int(amount) // 100,
        order_info=params["vnp_OrderInfo"],
        create_date=params["vnp_CreateDate"],
        expire_date=expires,
        return_url=return_url,
        locale=params["vnp_Locale"],
        ip_addr=params["vnp_IpAddr"],
    )
