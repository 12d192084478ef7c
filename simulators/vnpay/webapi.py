"""The merchant web API (`POST /merchant_webapi/api/transaction`): querydr and refund.

Answers are JSON objects, HTTP 200, with VNPay's response codes. Every answer to a known
merchant is signed with its hash secret (`|`-joined fields); an answer to an unknown
TmnCode cannot be, and is not.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from .checksum import pipe_checksum, spoil
from .clock import now_vn, read_stamp, stamp
from .config import Merchant, SimConfig
from .ledger import PAID, Ledger, Refund, Transaction

QUERY_REQUEST = (
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
REFUND_REQUEST = (
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
RESPONSE_ORDER = (
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
QUERY_RESPONSE_SIGNED = RESPONSE_ORDER
REFUND_RESPONSE_SIGNED = RESPONSE_ORDER[:13]

MESSAGES = {
    "00": "Success",
    "02": "Merchant is not valid",
    "03": "Data is in the wrong format",
    "04": "Full refund not allowed after a partial refund",
    "91": "Transaction not found",
    "93": "Invalid refund amount",
    "94": "Duplicate request",
    "95": "Transaction was not successful at VNPAY; refund refused",
    "97": "Invalid checksum",
    "99": "Other error",
}
REFUND_MESSAGES = {**MESSAGES, "02": "Total refund amount exceeds the original amount"}

_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_AMOUNT = re.compile(r"[0-9]{1,12}")


class Reply(Exception):
    """Stop handling and answer with this code (signed when the merchant is known)."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def _text(value: Any) -> str | None:
    """The request's value as text: strings as they are, whole numbers in decimal (npm sends numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def handle(body: Any, config: SimConfig, ledger: Ledger) -> dict[str, Any]:
    """One API request in, one answer out (latency and HTTP faults are the app's business)."""
    if not isinstance(body, dict):
        return {"vnp_ResponseCode": "03", "vnp_Message": "the body must be a JSON object"}
    command = _text(body.get("vnp_Command"))
    tmn_code = _text(body.get("vnp_TmnCode")) or ""
    merchant = config.merchants.get(tmn_code)
    if command not in ("querydr", "refund"):
        return {"vnp_ResponseCode": "03", "vnp_Message": "vnp_Command must be querydr or refund"}
    messages = MESSAGES if command == "querydr" else REFUND_MESSAGES
    if merchant is None:
        # Nobody to sign for. Refund has no "unknown merchant" code; 99 is its catch-all.
        code = "02" if command == "querydr" else "99"
        return {"vnp_ResponseCode": code, "vnp_Message": MESSAGES["02"], "vnp_Command": command}

    order = QUERY_REQUEST if command == "querydr" else REFUND_REQUEST
    values = {name: _text(body.get(name)) for name in order}
    base = {"vnp_Command": command, "vnp_TmnCode": tmn_code, "vnp_TxnRef": values.get("vnp_TxnRef") or ""}
    try:
        if any(v is None for v in values.values()) or _text(body.get("vnp_SecureHash")) is None:
            missing = sorted(name for name, v in values.items() if v is None)
            raise Reply("03", f"missing or not text: {', '.join(missing) or 'vnp_SecureHash'}")
        expected = pipe_checksum(merchant.hash_secret, (values[name] or "" for name in order))
        if expected != str(body["vnp_SecureHash"]).lower():
            raise Reply("97")
        text = {name: v or "" for name, v in values.items()}
        _check_common(text, command)
        key = (tmn_code, text["vnp_RequestId"])
        if key in ledger.request_ids:
            raise Reply("94", "this vnp_RequestId was already used")
        ledger.request_ids.add(key)
        txn = ledger.find(tmn_code, text["vnp_TxnRef"])
        if txn is None or txn.create_date != text["vnp_TransactionDate"]:
            raise Reply("91")
        answer = _query_answer(txn) if command == "querydr" else _refund(txn, text, ledger)
    except Reply as reply:
        answer = {**base, "vnp_ResponseCode": reply.code, "vnp_Message": messages.get(reply.code, "Error")}
        if reply.detail:
            answer["vnp_Message"] += f": {reply.detail}"
    answer.setdefault("vnp_Message", messages["00"])
    return _sign(answer, merchant, command, config.api_bad_signature)


def _check_common(text: dict[str, str], command: str) -> None:
    if text["vnp_Version"] != "2.1.0":
        raise Reply("03", "vnp_Version must be 2.1.0")
    if not _REQUEST_ID.fullmatch(text["vnp_RequestId"]):
        raise Reply("03", "vnp_RequestId must be 1 to 32 letters or digits")
    for name in ("vnp_TransactionDate", "vnp_CreateDate"):
        if read_stamp(text[name]) is None:
            raise Reply("03", f"{name} must be yyyyMMddHHmmss")
    try:
        ipaddress.ip_address(text["vnp_IpAddr"])
    except ValueError:
        raise Reply("03", "vnp_IpAddr must be an IP address") from None
    if not text["vnp_TxnRef"] or not text["vnp_OrderInfo"]:
        raise Reply("03", "vnp_TxnRef and vnp_OrderInfo are required")
    if command == "refund":
        if text["vnp_TransactionType"] not in ("02", "03"):
            raise Reply("03", "vnp_TransactionType must be 02 (full) or 03 (partial)")
        amount = text["vnp_Amount"]
        if not _AMOUNT.fullmatch(amount) or int(amount) <= 0 or int(amount) % 100:
            raise Reply("03", "vnp_Amount must be a positive whole number of VND times 100")
        if not text["vnp_CreateBy"]:
            raise Reply("03", "vnp_CreateBy is required")
        if not text["vnp_TransactionNo"].isdigit():
            raise Reply("03", "vnp_TransactionNo must be digits (0 when unknown)")


def _query_answer(txn: Transaction) -> dict[str, Any]:
    return {
        "vnp_Command": "querydr",
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": txn.tmn_code,
        "vnp_TxnRef": txn.txn_ref,
        "vnp_Amount": str(txn.amount_vnd * 100),
        "vnp_BankCode": txn.bank_code or "",
        "vnp_PayDate": txn.pay_date or "",
        "vnp_TransactionNo": txn.transaction_no,
        "vnp_TransactionType": txn.transaction_type,
        "vnp_TransactionStatus": txn.transaction_status,
        "vnp_OrderInfo": txn.order_info,
        "vnp_PromotionCode": "",
        "vnp_PromotionAmount": "",
    }


def _refund(txn: Transaction, text: dict[str, str], ledger: Ledger) -> dict[str, Any]:
    if text["vnp_TransactionNo"] not in ("0", txn.transaction_no):
        raise Reply("91", "vnp_TransactionNo does not match the transaction")
    if txn.state != PAID:
        raise Reply("95")
    amount_vnd = int(text["vnp_Amount"]) // 100
    if amount_vnd > txn.amount_vnd:
        raise Reply("93", "more than was paid")
    full = text["vnp_TransactionType"] == "02"
    if full:
        if any(r.transaction_type == "03" for r in txn.refunds):
            raise Reply("04")
        if txn.refunds:
            raise Reply("02", "already refunded in full")
        if amount_vnd != txn.amount_vnd:
            raise Reply("93", "a full refund is the whole amount")
    elif txn.refunded_vnd + amount_vnd > txn.amount_vnd:
        raise Reply("02")
    moment = now_vn()
    ledger_refund = Refund(
        request_id=text["vnp_RequestId"],
        refund_no=ledger.next_transaction_no(),
        transaction_type=text["vnp_TransactionType"],
        amount_vnd=amount_vnd,
        created_by=text["vnp_CreateBy"],
        create_date=text["vnp_CreateDate"],
        order_info=text["vnp_OrderInfo"],
        recorded_at=moment,
    )
    txn.refunds.append(ledger_refund)
    return {
        "vnp_Command": "refund",
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": txn.tmn_code,
        "vnp_TxnRef": txn.txn_ref,
        "vnp_Amount": str(amount_vnd * 100),
        "vnp_BankCode": txn.bank_code or "",
        "vnp_PayDate": stamp(moment),
        "vnp_TransactionNo": txn.transaction_no,
        "vnp_TransactionType": text["vnp_TransactionType"],
        "vnp_TransactionStatus": "05",  # VNPay is processing the refund
        "vnp_OrderInfo": text["vnp_OrderInfo"],
    }


def _sign(answer: dict[str, Any], merchant: Merchant, command: str, spoiled: bool) -> dict[str, Any]:
    answer = {"vnp_ResponseId": uuid.uuid4().hex, **answer}
    signed = QUERY_RESPONSE_SIGNED if command == "querydr" else REFUND_RESPONSE_SIGNED
    checksum = pipe_checksum(merchant.hash_secret, (str(answer.get(name, "")) for name in signed))
    answer["vnp_SecureHash"] = spoil(checksum) if spoiled else checksum
    return answer
