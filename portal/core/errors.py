"""The one domain error hierarchy. `portal.exceptions` maps it to HTTP, once.

A message is Vietnamese (the msgid); `params` fill its `%(name)s` placeholders. The web
layer says it in the reader's language (portal/core/i18n.py explains how).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.core.i18n import Message


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    status_code = 400
    code = "error"
    recorded = False  # already on the audit log (audit.record_refusal): the caller need not record it again

    def __init__(
        self,
        message: str,
        *,
        params: Mapping[str, Any] | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> None:
        self.message: Message = (
            message if isinstance(message, Message) and not params else Message(message, **(params or {}))
        )
        super().__init__(self.message)
        self.field_errors = field_errors or {}

    def answer_extra(self) -> dict[str, Any]:
        """What the JSON answer says besides `error`, `message` and `field_errors` (e.g. `missing`)."""
        return {}


class NotFound(DomainError):
    """The object does not exist, or exists outside the caller's scope (same answer)."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class AuthenticationFailed(DomainError):
    status_code = 401
    code = "unauthenticated"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    """Input was refused; `field_errors` maps field names to messages."""

    status_code = 422
    code = "validation_failed"


class ExternalServiceError(DomainError):
    """An outside system (city system, payment gateway, IdP) failed."""

    status_code = 503
    code = "external_service_error"

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class TenancyError(RuntimeError):
    """A query ran without a declared scope. A programming error: fail closed."""
