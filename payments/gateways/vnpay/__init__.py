"""VNPay (vnp_Version 2.1.0): our own client over httpx, no SDK.

client = VNPayClient(tmn_code=..., hash_secret=..., payment_url=..., api_url=...)
link = client.build_payment_url(txn_ref=..., amount_vnd=20_000, order_info=..., ip_addr=..., return_url=...)
callback = client.verify_callback(raw_query)       # return URL and IPN; raises CallbackRejected
client.query_transaction(txn_ref=..., transaction_date=link.create_date)
client.refund(txn_ref=..., amount_vnd=..., kind=RefundKind.PARTIAL, transaction_date=..., created_by=...)
"""

from .client import (
    DEFAULT_EXPIRY,
    MAX_AMOUNT_VND,
    MAX_CALLBACK_QUERY_BYTES,
    VERSION,
    ApiExchange,
    PaymentUrl,
    RefundResult,
    TransactionQueryResult,
    VerifiedCallback,
    VNPayClient,
    amount_from_wire,
    plain_text,
)
from .codes import (
    IpnReply,
    Locale,
    PaymentOutcome,
    QueryOutcome,
    QueryResponseCode,
    RefundKind,
    RefundResponseCode,
    ResponseCode,
    TransactionStatus,
    TransactionType,
)
from .errors import (
    CallbackRejected,
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

__all__ = [
    "DEFAULT_EXPIRY",
    "MAX_AMOUNT_VND",
    "MAX_CALLBACK_QUERY_BYTES",
    "VERSION",
    "ApiExchange",
    "CallbackRejected",
    "CallbackTooLarge",
    "ForeignMerchant",
    "GatewayProtocolError",
    "GatewayUnavailable",
    "InvalidAmount",
    "InvalidGatewayRequest",
    "InvalidParameter",
    "InvalidSignature",
    "IpnReply",
    "Locale",
    "MalformedCallback",
    "MissingParameter",
    "MissingSignature",
    "PaymentOutcome",
    "PaymentUrl",
    "QueryOutcome",
    "QueryResponseCode",
    "RefundKind",
    "RefundResponseCode",
    "RefundResult",
    "RepeatedParameter",
    "ResponseCode",
    "TransactionQueryResult",
    "TransactionStatus",
    "TransactionType",
    "UnverifiedResponse",
    "VNPayClient",
    "VerifiedCallback",
    "amount_from_wire",
    "plain_text",
]
