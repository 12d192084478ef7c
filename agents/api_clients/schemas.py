"""The token endpoint's shapes (RFC 6749 §4.4 and §5), as the OpenAPI at /schema describes them."""

from __future__ import annotations

from typing import Literal, TypedDict

import msgspec


class TokenRequest(TypedDict, total=False):
    """The form of `POST /api/oauth/token`. Nothing is required here: a missing
    `grant_type` is answered in the RFC's shape (`invalid_request`), not as a parse error."""

    grant_type: str  # "client_credentials", the only grant
    scope: str  # space-separated; omitted: every scope the client was granted
    client_id: str  # client_secret_post only (HTTP Basic is preferred)
    client_secret: str


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int  # seconds
    scope: str  # space-separated


class OAuthErrorOut(msgspec.Struct):
    error: Literal["invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type", "rate_limited"]
    error_description: str
