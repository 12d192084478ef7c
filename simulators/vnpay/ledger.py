"""The simulator's books: every payment it was shown, how it ended, and its refunds.

`GET /_sim/transactions` shows them, so tests (and later the daily settlement check) can
compare the portal's records with what "VNPay" holds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import iso_ms, now_vn, stamp

PENDING, PAID, CANCELLED, FAILED = "pending", "paid", "cancelled", "failed"

#: The tester's choices on the payment page, and the codes each produces.
SUCCESS_CHOICE, CANCEL_CHOICE, FAILURE_CHOICE = "success", "cancel", "failure"
FAILURE_REASONS = ("51", "11", "13", "12", "09", "10", "65", "75", "79", "99")


@dataclass
class Refund:
    request_id: str
    refund_no: str
    transaction_type: str  # 02 full, 03 partial
    amount_vnd: int
    created_by: str
    create_date: str
    order_info: str
    recorded_at: datetime

    def as_record(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "refund_no": self.refund_no,
            "transaction_type": self.transaction_type,
            "amount_vnd": self.amount_vnd,
            "created_by": self.created_by,
            "create_date": self.create_date,
            "order_info": self.order_info,
            "recorded_at": iso_ms(self.recorded_at),
        }


@dataclass
class Transaction:
    tmn_code: str
    txn_ref: str
    amount_vnd: int
    order_info: str
    create_date: str
    expire_date: datetime
    return_url: str
    locale: str
    ip_addr: str
    ticket: str
    state: str = PENDING
    response_code: str | None = None
    transaction_no: str = "0"
    bank_code: str | None = None
    bank_tran_no: str | None = None
    card_type: str | None = None
    pay_date: str | None = None
    return_query: str | None = None
    refunds: list[Refund] = field(default_factory=list)

    @property
    def transaction_status(self) -> str:
        return {PENDING: "01", PAID: "00"}.get(self.state, "02")

    @property
    def refunded_vnd(self) -> int:
        return sum(r.amount_vnd for r in self.refunds)

    @property
    def transaction_type(self) -> str:
        """01 payment; once refunded, 02 (in full) or 03 (in part)."""
        if not self.refunds:
            return "01"
        return "02" if self.refunded_vnd >= self.amount_vnd else "03"

    def callback_params(self) -> dict[str, str]:
        """The `vnp_*` parameters of the return URL and the IPN (before signing)."""
        params = {
            "vnp_Amount": str(self.amount_vnd * 100),
            "vnp_OrderInfo": self.order_info,
            "vnp_ResponseCode": self.response_code or "99",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TransactionNo": self.transaction_no,
            "vnp_TransactionStatus": self.transaction_status,
            "vnp_TxnRef": self.txn_ref,
        }
        optional = {
            "vnp_BankCode": self.bank_code,
            "vnp_BankTranNo": self.bank_tran_no,
            "vnp_CardType": self.card_type,
            "vnp_PayDate": self.pay_date,
        }
        params.update({k: v for k, v in optional.items() if v})  # VNPay leaves absent fields out
        return params

    def as_record(self) -> dict[str, Any]:
        paid = self.amount_vnd if self.state == PAID else 0
        return {
            "tmn_code": self.tmn_code,
            "txn_ref": self.txn_ref,
            "amount_vnd": self.amount_vnd,
            "state": self.state,
            "response_code": self.response_code,
            "transaction_status": self.transaction_status,
            "transaction_type": self.transaction_type,
            "transaction_no": self.transaction_no,
            "bank_code": self.bank_code,
            "bank_tran_no": self.bank_tran_no,
            "card_type": self.card_type,
            "order_info": self.order_info,
            "create_date": self.create_date,
            "expire_date": stamp(self.expire_date),
            "pay_date": self.pay_date,
            "refunds": [r.as_record() for r in self.refunds],
            "refunded_vnd": self.refunded_vnd,
            "net_vnd": paid - self.refunded_vnd,
        }


class Ledger:
    def __init__(self) -> None:
        self.transactions: dict[tuple[str, str], Transaction] = {}
        self.by_ticket: dict[str, Transaction] = {}
        #: (tmn_code, vnp_RequestId) pairs already seen by the web API.
        self.request_ids: set[tuple[str, str]] = set()
        self._next_no = 14_000_001

    def clear(self) -> None:
        self.transactions.clear()
        self.by_ticket.clear()
        self.request_ids.clear()
        self._next_no = 14_000_001

    def next_transaction_no(self) -> str:
        number = self._next_no
        self._next_no += 1
        return str(number)

    def find(self, tmn_code: str, txn_ref: str) -> Transaction | None:
        return self.transactions.get((tmn_code, txn_ref))

    def open(self, **fields: Any) -> Transaction:
        txn = Transaction(ticket=secrets.token_urlsafe(18), **fields)
        self.transactions[(txn.tmn_code, txn.txn_ref)] = txn
        self.by_ticket[txn.ticket] = txn
        return txn

    def decide(self, txn: Transaction, choice: str, reason: str | None) -> None:
        """Apply the tester's choice; a payment past its deadline fails with 11 whatever was chosen."""
        moment = now_vn()
        if moment > txn.expire_date:
            choice, reason = FAILURE_CHOICE, "11"
        txn.pay_date = stamp(moment)
        if choice == SUCCESS_CHOICE:
            txn.state, txn.response_code = PAID, "00"
            txn.transaction_no = self.next_transaction_no()
            txn.bank_code, txn.card_type = "NCB", "ATM"
            txn.bank_tran_no = f"VNP{txn.transaction_no}"
        elif choice == CANCEL_CHOICE:
            # The shape of real sandbox cancellations: no transaction number, VNPAY/QRCODE.
            txn.state, txn.response_code = CANCELLED, "24"
            txn.transaction_no, txn.bank_code, txn.card_type = "0", "VNPAY", "QRCODE"
        else:
            txn.state, txn.response_code = FAILED, reason or "99"
            txn.transaction_no = self.next_transaction_no()
            txn.bank_code, txn.card_type = "NCB", "ATM"

    def records(self, **filters: str | None) -> list[dict[str, Any]]:
        rows = []
        for txn in self.transactions.values():
            if filters.get("tmn_code") and txn.tmn_code != filters["tmn_code"]:
                continue
            if filters.get("txn_ref") and txn.txn_ref != filters["txn_ref"]:
                continue
            if filters.get("state") and txn.state != filters["state"]:
                continue
            day = filters.get("pay_day")
            if day and not (txn.pay_date or "").startswith(day):
                continue
            rows.append(txn.as_record())
        return rows
