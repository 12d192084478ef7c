"""What can go wrong with VNPay, as types.

* `CallbackRejected` and its subclasses: a return-URL or IPN query we refuse. Each names the
  IPN acknowledgement it calls for (`reply`), so the IPN endpoint answers VNPay with the
  right `RspCode` without string matching.
* `GatewayUnavailable` / `GatewayProtocolError`: the merchant web API (querydr, refund)
  could not be reached, or answered something we cannot trust or read.
* `InvalidGatewayRequest`: our own request was malformed before anything was sent.

No message carries the hash secret (the client never holds it as a string).
"""

from __future__ import annotations

from portal.core.errors import DomainError, ExternalServiceError, ValidationFailed

from .codes import IpnReply


class CallbackRejected(DomainError):
    """A return URL or IPN query that fails verification; nothing in it may be acted on."""

    status_code = 400
    code = "vnpay_callback_rejected"
    reply = IpnReply.UNKNOWN_ERROR


class CallbackTooLarge(CallbackRejected):
    """The query is far larger than any VNPay sends."""


class MalformedCallback(CallbackRejected):
    """The query is not well-formed `name=value&...` with valid percent-encoded UTF-8."""


class RepeatedParameter(CallbackRejected):
    """A parameter occurs more than once (which one would be the signed one?)."""

    def __init__(self, parameter: str) -> None:
        super().__init__(f"parameter {parameter} occurs more than once")
        self.parameter = parameter


class MissingSignature(CallbackRejected):
    reply = IpnReply.INVALID_SIGNATURE


class InvalidSignature(CallbackRejected):
    """The checksum does not match the parameters under our hash secret."""

    reply = IpnReply.INVALID_SIGNATURE


class ForeignMerchant(CallbackRejected):
    """Correctly signed, but for a TmnCode that is not ours."""

    reply = IpnReply.INVALID_SIGNATURE

    def __init__(self, tmn_code: str) -> None:
        super().__init__(f"vnp_TmnCode {tmn_code!r} is not this merchant's")
        self.tmn_code = tmn_code


class MissingParameter(CallbackRejected):
    def __init__(self, parameter: str) -> None:
        super().__init__(f"required parameter {parameter} is missing")
        self.parameter = parameter


class InvalidParameter(CallbackRejected):
    """A signed parameter whose value is not what VNPay documents."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter


class InvalidAmount(InvalidParameter):
    """`vnp_Amount` is not a positive whole number of VND times 100."""

    reply = IpnReply.INVALID_AMOUNT


class InvalidGatewayRequest(ValidationFailed):
    """A payment, query or refund we were asked to send is malformed; nothing was sent."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field_errors={field: problem})
        self.field = field


class GatewayUnavailable(ExternalServiceError):
    """VNPay's web API could not be reached or answered 5xx/429: try again later."""

    code = "vnpay_unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


class GatewayProtocolError(ExternalServiceError):
    """VNPay's web API answered something we cannot read; a person must look."""

    code = "vnpay_protocol_error"

    def __init__(self, message: str, *, response_code: str | None = None) -> None:
        super().__init__(message, retryable=False)
        self.response_code = response_code


class UnverifiedResponse(GatewayProtocolError):
    """A web-API answer whose checksum is missing or wrong: none of it is believed.

    `response_code` is the unverified `vnp_ResponseCode`, for diagnosis only (a `97` here
    usually means our hash secret is not the one VNPay has).
    """

    code = "vnpay_unverified_response"
