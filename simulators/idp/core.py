"""Protocol logic of the simulator, independent of the web framework.

The Litestar layer (``app.py``) turns HTTP requests into calls on
:class:`Simulator` and turns its results and exceptions into HTTP responses.
Everything stateful (authorization codes, access tokens, runtime users, test
knobs) lives in one :class:`Simulator` instance per app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from joserfc import jwt

from .config import ClientConfig, IdpConfig, TenantConfig, UserConfig
from .keys import ALGORITHM, KeyStore

SUPPORTED_SCOPES = ("openid", "email", "profile")
SUPPORTED_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "email",
    "email_verified",
    "name",
)
# RFC 7636 §4.1: code_verifier = 43*128unreserved
_CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# RFC 7636 §4.2: BASE64URL(SHA256(...)) without padding is always 43 characters.
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Single-valued parameters of the authorization request we look at.
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
    "prompt",
)


# --------------------------------------------------------------------------- errors


class OAuthError(Exception):
    """An error answered as JSON by the token or userinfo endpoint (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status_code = status_code

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class AuthorizeFatalError(Exception):
    """The authorization request cannot be trusted to redirect back (bad client
    or redirect_uri): the user sees an error page, never a redirect
    (RFC 6749 §4.1.2.1, first paragraph)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class AuthorizeRedirectError(Exception):
    """An error reported to the client by redirecting to its redirect_uri
    with ``error``/``error_description``/``state`` (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.redirect_uri = redirect_uri
        self.error = error
        self.description = description
        self.state = state


class ControlError(ValueError):
    """A bad request to the test-control API."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


# --------------------------------------------------------------------------- data


@dataclass
class Knobs:
    """Fault-injection settings, changed at runtime through ``PUT /_idp/config``."""

    latency_ms: int = 0
    error_rate: float = 0.0
    id_token_ttl: int = 300
    clock_skew_seconds: int = 0
    sign_with_wrong_key: bool = False
    wrong_audience: bool = False
    wrong_issuer: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial update, validating every value first (all or nothing)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ControlError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        validated: dict[str, Any] = {}
        for name, value in changes.items():
            if name in {"sign_with_wrong_key", "wrong_audience", "wrong_issuer"}:
                if not isinstance(value, bool):
                    raise ControlError(f"{name} must be a boolean")
            elif name == "error_rate":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise ControlError("error_rate must be a number between 0 and 1")
                value = float(value)
            else:  # integer settings
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ControlError(f"{name} must be an integer")
                if name == "latency_ms" and not 0 <= value <= 60_000:
                    raise ControlError("latency_ms must be between 0 and 60000")
                if name == "id_token_ttl" and value <= 0:
                    raise ControlError("id_token_ttl must be a positive number of seconds")
            validated[name] = value
        for name, value in validated.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request (what the login form carries along)."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    login_hint: str | None
    raw: Mapping[str, str]

    def encode(self) -> str:
        """The original request parameters, packed for the form's hidden field."""
        data = json.dumps(dict(self.raw), separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    @staticmethod
    def decode(packed: str) -> dict[str, str]:
        try:
            padded = packed + "=" * (-len(packed) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise AuthorizeFatalError("The sign-in form was tampered with or is corrupt.") from exc
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise AuthorizeFatalError("The sign-in form was tampered with or is corrupt.")
        return data


@dataclass
class AuthorizationCode:
    code: str
    tenant: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    nonce: str | None
    sub: str
    auth_time: int
    expires_at: float
    used: bool = False
    issued_access_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessToken:
    token: str
    tenant: str
    client_id: str
    sub: str
    scope: str
    expires_at: float


# --------------------------------------------------------------------------- helpers


def s256(code_verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def half_hash(value: str) -> str:
    """``at_hash`` for RS256: left half of SHA-256, base64url (OIDC Core §3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """Append parameters to a URI, keeping any query it already has (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _granted_scope(requested: str) -> str:
    wanted = requested.split()
    return " ".join(s for s in dict.fromkeys(wanted) if s in SUPPORTED_SCOPES)


# --------------------------------------------------------------------------- simulator


class Simulator:
    """All runtime state of one simulator process, across tenants."""

    def __init__(self, config: IdpConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.keys = KeyStore(config.keys_dir)
        #: Wall clock; tests may replace it to travel in time.
        self.clock = clock
        self.random = random.Random()
        self.knobs = Knobs(id_token_ttl=config.id_token_ttl)
        self._codes: dict[str, AuthorizationCode] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._runtime_users: dict[str, list[UserConfig]] = {}

    # ------------------------------------------------------------------ tenants & users

    def tenant(self, name: str) -> TenantConfig | None:
        return self.config.tenants.get(name)

    def issuer(self, tenant: str) -> str:
        return self.config.issuer(tenant)

    def users(self, tenant: str) -> list[UserConfig]:
        return [*self.config.tenants[tenant].users, *self._runtime_users.get(tenant, [])]

    def user_by_sub(self, tenant: str, sub: str) -> UserConfig | None:
        return next((u for u in self.users(tenant) if u.sub == sub), None)

    def authenticate(self, tenant: str, email: str, password: str) -> UserConfig | None:
        """Check an email/password pair; emails match case-insensitively."""
        email = email.strip().lower()
        for user in self.users(tenant):
            if user.email.lower() == email:
                if hmac.compare_digest(user.password.encode(), password.encode()):
                    return user
                return None
        return None

    def add_user(self, tenant: str, user: UserConfig) -> None:
        for existing in self.users(tenant):
            if existing.sub == user.sub:
                raise ControlError(f"a user with sub {user.sub!r} already exists", 409)
            if existing.email.lower() == user.email.lower():
                raise ControlError(f"a user with email {user.email!r} already exists", 409)
        self._runtime_users.setdefault(tenant, []).append(user)

    def reset(self) -> None:
        """Back to the start-up state (keys are kept)."""
        self.knobs = Knobs(id_token_ttl=self.config.id_token_ttl)
        self._codes.clear()
        self._access_tokens.clear()
        self._runtime_users.clear()

    # ------------------------------------------------------------------ fault injection

    def should_fail(self) -> bool:
        rate = self.knobs.error_rate
        return rate > 0 and self.random.random() < rate

    # ------------------------------------------------------------------ discovery

    def discovery(self, tenant: str) -> dict[str, Any]:
        issuer = self.issuer(tenant)
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "scopes_supported": list(SUPPORTED_SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": list(SUPPORTED_CLAIMS),
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
        }

    # ------------------------------------------------------------------ authorization endpoint

    def validate_authorization_request(
        self, tenant: str, params: Mapping[str, str], duplicated: frozenset[str] = frozenset()
    ) -> tuple[AuthorizationRequest, ClientConfig]:
        """Validate an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1,
        RFC 7636 §4.3). Raises :class:`AuthorizeFatalError` while the client and
        redirect URI are not established, :class:`AuthorizeRedirectError` after."""
        tenant_cfg = self.config.tenants[tenant]
        client_id = params.get("client_id")
        if not client_id or "client_id" in duplicated:
            raise AuthorizeFatalError("The request has no client_id (or more than one).")
        client = tenant_cfg.client(client_id)
        if client is None:
            raise AuthorizeFatalError(f"Unknown client_id {client_id!r}.")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or "redirect_uri" in duplicated:
            raise AuthorizeFatalError("The request has no redirect_uri (or more than one).")
        if redirect_uri not in client.redirect_uris:
            raise AuthorizeFatalError("The redirect_uri does not match any URI registered for this client.")

        state = params.get("state")

        def fail(error: str, description: str) -> AuthorizeRedirectError:
            return AuthorizeRedirectError(redirect_uri, error, description, state)

        if duplicated:
            raise fail("invalid_request", f"parameter(s) repeated: {', '.join(sorted(duplicated))}")
        response_type = params.get("response_type")
        if not response_type:
            raise fail("invalid_request", "response_type is required")
        if response_type != "code":
            raise fail("unsupported_response_type", "only response_type=code is supported")
        scope = params.get("scope", "")
        if "openid" not in scope.split():
            raise fail("invalid_scope", "scope must include openid")
        code_challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if not code_challenge:
            raise fail("invalid_request", "code_challenge is required (PKCE with S256)")
        if method != "S256":
            raise fail("invalid_request", "code_challenge_method must be S256")
        if not _S256_CHALLENGE.match(code_challenge):
            raise fail("invalid_request", "code_challenge is not a valid S256 challenge")
        if "none" in params.get("prompt", "").split():
            # The simulator keeps no browser session, so it can never skip the login.
            raise fail("login_required", "the simulator always requires an interactive sign-in")

        request = AuthorizationRequest(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            nonce=params.get("nonce") or None,
            code_challenge=code_challenge,
            code_challenge_method=method,
            login_hint=params.get("login_hint") or None,
            raw={k: v for k, v in params.items() if k in AUTHORIZE_PARAMS},
        )
        return request, client

    def issue_code(self, tenant: str, request: AuthorizationRequest, user: UserConfig) -> str:
        now = self.clock()
        self._purge(now)
        code = secrets.token_urlsafe(32)
        self._codes[code] = AuthorizationCode(
            code=code,
            tenant=tenant,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            scope=_granted_scope(request.scope),
            code_challenge=request.code_challenge,
            nonce=request.nonce,
            sub=user.sub,
            auth_time=int(now),
            expires_at=now + self.config.code_ttl,
        )
        return code

    def success_redirect(self, tenant: str, request: AuthorizationRequest, code: str) -> str:
        return add_query(
            request.redirect_uri,
            {"code": code, "state": request.state, "iss": self.issuer(tenant)},
        )

    def error_redirect(self, tenant: str, error: AuthorizeRedirectError) -> str:
        return add_query(
            error.redirect_uri,
            {
                "error": error.error,
                "error_description": error.description,
                "state": error.state,
                "iss": self.issuer(tenant),
            },
        )

    # ------------------------------------------------------------------ token endpoint

    def authenticate_client(self, tenant: str, form: Mapping[str, str], authorization: str | None) -> ClientConfig:
        """client_secret_basic or client_secret_post (RFC 6749 §2.3.1)."""
        tenant_cfg = self.config.tenants[tenant]
        basic = authorization[6:].strip() if authorization and authorization[:6].lower() == "basic " else None
        posted = "client_secret" in form
        if basic is not None and posted:
            raise OAuthError("invalid_request", "use only one client authentication method")
        if basic is not None:
            try:
                decoded = base64.b64decode(basic, validate=True).decode("utf-8")
                raw_id, sep, raw_secret = decoded.partition(":")
                if not sep:
                    raise ValueError("no colon")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "malformed Basic credentials", 401) from None
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if form.get("client_id") not in (None, client_id):
                raise OAuthError("invalid_request", "client_id in body differs from Basic credentials")
        elif posted:
            client_id, secret = form.get("client_id", ""), form["client_secret"]
        else:
            raise OAuthError("invalid_client", "client authentication is required", 401)
        client = tenant_cfg.client(client_id)
        if client is None or not hmac.compare_digest(client.client_secret.encode(), secret.encode()):
            raise OAuthError("invalid_client", "client authentication failed", 401)
        return client

    def exchange_code(self, tenant: str, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        client = self.authenticate_client(tenant, form, authorization)
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        code_value = form.get("code")
        if not code_value:
            raise OAuthError("invalid_request", "code is required")
        now = self.clock()
        code = self._codes.get(code_value)
        if code is None or code.tenant != tenant:
            raise OAuthError("invalid_grant", "unknown authorization code")
        if code.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if code.used:
            # RFC 6749 §4.1.2: deny, and revoke what the first redemption produced.
            for token in code.issued_access_tokens:
                self._access_tokens.pop(token, None)
            raise OAuthError("invalid_grant", "the authorization code was already used")
        # One redemption attempt per code, successful or not.
        code.used = True
        if now >= code.expires_at:
            raise OAuthError("invalid_grant", "the authorization code has expired")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier")
        if not verifier:
            raise OAuthError("invalid_grant", "code_verifier is required (PKCE)")
        if not _CODE_VERIFIER.match(verifier) or not hmac.compare_digest(s256(verifier), code.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        user = self.user_by_sub(tenant, code.sub)
        if user is None:
            raise OAuthError("invalid_grant", "the user no longer exists")

        access_token = secrets.token_urlsafe(32)
        self._access_tokens[access_token] = AccessToken(
            token=access_token,
            tenant=tenant,
            client_id=client.client_id,
            sub=user.sub,
            scope=code.scope,
            expires_at=now + self.config.access_token_ttl,
        )
        code.issued_access_tokens.append(access_token)
        id_token = self.make_id_token(tenant, client.client_id, user, code, access_token)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.config.access_token_ttl,
            "id_token": id_token,
            "scope": code.scope,
        }

    def make_id_token(
        self,
        tenant: str,
        client_id: str,
        user: UserConfig,
        code: AuthorizationCode,
        access_token: str,
    ) -> str:
        knobs = self.knobs
        skew = knobs.clock_skew_seconds
        now = int(self.clock()) + skew
        claims: dict[str, Any] = {
            **user.claims,
            "iss": self.issuer(tenant),
            "sub": user.sub,
            "aud": client_id,
            "exp": now + knobs.id_token_ttl,
            "iat": now,
            "auth_time": code.auth_time + skew,
            "at_hash": half_hash(access_token),
            "email": user.email,
            "email_verified": user.email_verified,
            "name": user.name,
        }
        if code.nonce is not None:
            claims["nonce"] = code.nonce
        if knobs.wrong_issuer:
            claims["iss"] = f"https://impostor.invalid/{tenant}"
        if knobs.wrong_audience:
            claims["aud"] = f"{client_id}-someone-else"
        key = self.keys.rogue_key(tenant) if knobs.sign_with_wrong_key else self.keys.signing_key(tenant)
        header = {"alg": ALGORITHM, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    # ------------------------------------------------------------------ userinfo

    def userinfo(self, tenant: str, authorization: str | None) -> dict[str, Any]:
        """OIDC Core §5.3 with a Bearer token (RFC 6750 §2.1)."""
        if not authorization or authorization[:7].lower() != "bearer ":
            raise OAuthError("invalid_request", "a Bearer access token is required", 401)
        token = self._access_tokens.get(authorization[7:].strip())
        if token is None or token.tenant != tenant or self.clock() >= token.expires_at:
            raise OAuthError("invalid_token", "the access token is invalid or expired", 401)
        user = self.user_by_sub(tenant, token.sub)
        if user is None:
            raise OAuthError("invalid_token", "the user no longer exists", 401)
        return {
            **user.claims,
            "sub": user.sub,
            "email": user.email,
            "email_verified": user.email_verified,
            "name": user.name,
        }

    # ------------------------------------------------------------------ housekeeping

    def _purge(self, now: float) -> None:
        # Keep used/expired codes for a while so a replay is still recognised.
        stale = [c for c, v in self._codes.items() if now > v.expires_at + 600]
        for c in stale:
            del self._codes[c]
        expired = [t for t, v in self._access_tokens.items() if now > v.expires_at]
        for t in expired:
            del self._access_tokens[t]
