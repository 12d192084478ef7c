"""VNPay's code tables (vnp_Version 2.1.0), as enums.

Values are VNPay's two-digit codes; names say what they mean to us. A code that
VNPay documents nowhere is refused where it is parsed (see `parse_code`), so a
surprise reaches a person instead of being folded into a guess.
"""

from __future__ import annotations

import enum
from typing import TypeVar

_E = TypeVar("_E", bound=enum.Enum)


def parse_code(kind: type[_E], raw: str) -> _E | None:
    """The member of `kind` whose value is `raw`, or None when VNPay documents no such code."""
    try:
        return kind(raw)
    except ValueError:
        return None


class Locale(str, enum.Enum):
    """Language of VNPay's payment page (`vnp_Locale`; note `vn`, not `vi`)."""

    VIETNAMESE = "vn"
    ENGLISH = "en"


class ResponseCode(str, enum.Enum):
    """`vnp_ResponseCode` of a return URL or IPN: the result of the customer's payment."""

    SUCCESS = "00"
    DEBITED_BUT_SUSPECTED = "07"
    NOT_REGISTERED_FOR_INTERNET_BANKING = "09"
    AUTHENTICATION_FAILED_TOO_OFTEN = "10"
    PAYMENT_TIME_EXPIRED = "11"
    CARD_OR_ACCOUNT_LOCKED = "12"
    WRONG_OTP = "13"
    CANCELLED_BY_CUSTOMER = "24"
    INSUFFICIENT_BALANCE = "51"
    DAILY_LIMIT_EXCEEDED = "65"
    BANK_UNDER_MAINTENANCE = "75"
    WRONG_PAYMENT_PASSWORD_TOO_OFTEN = "79"
    OTHER_ERROR = "99"


class TransactionStatus(str, enum.Enum):
    """`vnp_TransactionStatus`: the state of the transaction at VNPay."""

    SUCCESS = "00"
    NOT_COMPLETED = "01"
    FAILED = "02"
    REVERSED = "04"
    REFUND_PROCESSING = "05"
    REFUND_SENT_TO_BANK = "06"
    SUSPECTED_FRAUD = "07"
    REFUND_REJECTED = "09"


class TransactionType(str, enum.Enum):
    """`vnp_TransactionType` of the merchant web API."""

    PAYMENT = "01"
    FULL_REFUND = "02"
    PARTIAL_REFUND = "03"


class RefundKind(str, enum.Enum):
    """What a refund request asks for (its `vnp_TransactionType`)."""

    FULL = "02"
    PARTIAL = "03"


class QueryResponseCode(str, enum.Enum):
    """`vnp_ResponseCode` of a transaction query (querydr)."""

    SUCCESS = "00"
    INVALID_MERCHANT = "02"
    INVALID_FORMAT = "03"
    TRANSACTION_NOT_FOUND = "91"
    DUPLICATE_REQUEST = "94"
    INVALID_CHECKSUM = "97"
    OTHER_ERROR = "99"


class RefundResponseCode(str, enum.Enum):
    """`vnp_ResponseCode` of a refund request."""

    SUCCESS = "00"
    TOTAL_EXCEEDS_ORIGINAL = "02"
    INVALID_FORMAT = "03"
    FULL_REFUND_AFTER_PARTIAL = "04"
    ONLY_PARTIAL_ALLOWED = "13"
    TRANSACTION_NOT_FOUND = "91"
    INVALID_AMOUNT = "93"
    DUPLICATE_REQUEST = "94"
    TRANSACTION_NOT_SUCCESSFUL = "95"
    INVALID_CHECKSUM = "97"
    TIMEOUT = "98"
    OTHER_ERROR = "99"


class IpnReply(enum.Enum):
    """Our answer to an IPN: VNPay keys on `RspCode`; the messages are the official PHP sample's."""

    CONFIRMED = ("00", "Confirm Success")
    ORDER_NOT_FOUND = ("01", "Order not found")
    ALREADY_CONFIRMED = ("02", "Order already confirmed")
    INVALID_AMOUNT = ("04", "invalid amount")
    INVALID_SIGNATURE = ("97", "Invalid signature")
    UNKNOWN_ERROR = ("99", "Unknow error")  # sic: VNPay's sample spells it so

    @property
    def rsp_code(self) -> str:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]

    @property
    def body(self) -> dict[str, str]:
        """The JSON object to answer with (HTTP 200)."""
        return {"RspCode": self.rsp_code, "Message": self.message}

    @property
    def ends_delivery(self) -> bool:
        """VNPay stops sending this IPN after 00 and 02; any other answer (or none) makes it retry."""
        return self in (IpnReply.CONFIRMED, IpnReply.ALREADY_CONFIRMED)


class PaymentOutcome(str, enum.Enum):
    """What a verified return/IPN says happened to the payment."""

    PAID = "paid"
    CANCELLED = "cancelled"
    FAILED = "failed"
    PENDING = "pending"


class QueryOutcome(str, enum.Enum):
    """What a transaction query lets reconciliation conclude."""

    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"
    NOT_FOUND = "not_found"
    #: VNPay answered, but with a state reconciliation must not settle on its own (refund states, fraud).
    NEEDS_REVIEW = "needs_review"
    #: VNPay did not answer the question (duplicate request, format, other error): ask again later.
    NOT_ANSWERED = "not_answered"
