"""OpenID Connect relying party for partner single sign-on (authorization code + PKCE).

One `OidcClient` per partner identity provider (issuer, client id, secret and
our redirect URI). The two halves of a sign-in:

1. `authorization_request()` reads the issuer's discovery document (cached a
   few minutes per issuer) and builds the authorization URL with Authlib's
   `OAuth2Client`: PKCE S256, a random `state` and `nonce`. The caller keeps
   state, nonce and code verifier (in the session cookie) until the callback.
2. `complete(...)` redeems the code at the token endpoint with Authlib (client
   secret over HTTP Basic, the PKCE verifier, the same redirect URI), then
   validates the ID token here.

Authlib's `OAuth2Client.fetch_token` does not look at the ID token at all (it
returns the token response as it came), so the ID token is checked with
joserfc: the signature against the issuer's JWKS fetched over HTTP (cached;
fetched again once when the token names an unknown key), an asymmetric
algorithm only, `iss` equal to the configured issuer, `aud` containing our
client id (and `azp` when there are several audiences), `exp`/`iat`/`nbf`
within a small leeway, `nonce` equal to the one we sent, and `at_hash` when
present. No claim is read before the signature is verified.

Every failure raises `SsoFailed` (an `AuthenticationFailed`) with a
Vietnamese message for the person and a short `reason` for the audit log.

Outbound HTTP: discovery, JWKS and UserInfo go through `make_http_client`.
Authlib's client is itself an httpx client and cannot wrap that instance, so
it is built with the same explicit timeouts and User-Agent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import authlib.deprecate  # noqa: F401 - installs Authlib's own "always" warning filter first
import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from portal.core.errors import AuthenticationFailed
from portal.core.http import USER_AGENT, event_hooks, make_http_client
from portal.core.i18n import N_

with warnings.catch_warnings():
    # Authlib 1.9 prefers the `httpx2` package and warns when it falls back to
    # `httpx`, which is what this project depends on (pyproject). The fallback is
    # supported for now; silence only that one message, only for this import.
    warnings.filterwarnings("ignore", message=".*httpx module is deprecated.*")
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError

IDP_TIMEOUT_SECONDS = 10.0
METADATA_TTL_SECONDS = 300.0
JWKS_TTL_SECONDS = 300.0
CLOCK_LEEWAY_SECONDS = 60
SCOPE = "openid email profile"
# Asymmetric algorithms only: never "none", never HMAC with a key we would have to guess.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_AT_HASH = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}

# Messages shown to the person (Vietnamese msgids; English in portal/translations/en).
MSG_IDP_UNREACHABLE = N_("Không kết nối được tới hệ thống đăng nhập của đối tác; vui lòng thử lại sau")
MSG_IDP_MISCONFIGURED = N_("Cấu hình đăng nhập SSO của đối tác không hợp lệ; vui lòng liên hệ Trung tâm")
MSG_TOKEN_REFUSED = N_("Hệ thống đăng nhập của đối tác không cấp mã đăng nhập; vui lòng thử lại")
MSG_BAD_SIGNATURE = N_("Chữ ký của mã định danh (ID token) không hợp lệ")
MSG_EXPIRED = N_("Mã định danh (ID token) đã hết hạn; vui lòng đăng nhập lại")
MSG_BAD_TIME = N_("Thời điểm phát hành mã định danh không hợp lệ (lệch giờ)")
MSG_WRONG_ISSUER = N_("Mã định danh không do hệ thống đăng nhập của đối tác phát hành")
MSG_WRONG_AUDIENCE = N_("Mã định danh không dành cho cổng này")
MSG_NONCE = N_("Mã định danh không khớp với yêu cầu đăng nhập")
MSG_INVALID_TOKEN = N_("Mã định danh (ID token) không hợp lệ")


class SsoFailed(AuthenticationFailed):
    """A single sign-on step failed; `reason` is the short code written to the audit log."""

    def __init__(self, reason: str, message: str, *, status_code: int = 401, detail: dict[str, Any] | None = None):
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code
        self.detail = detail or {}


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of an OpenID Provider's discovery document we use."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    iss_parameter_supported: bool = False


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """The person as the identity provider vouches for them (validated ID token)."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    claims: dict[str, Any] = field(default_factory=dict)


class _TtlCache:
    """A small thread-safe cache with a lifetime per entry (web handlers run in a thread pool)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Any], *, refresh: bool = False) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and not refresh and hit[0] > now:
                return hit[1]
        value = load()  # outside the lock: a slow provider must not block the others
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_metadata_cache = _TtlCache(METADATA_TTL_SECONDS)
_jwks_cache = _TtlCache(JWKS_TTL_SECONDS)


def clear_caches() -> None:
    """Forget discovery documents and key sets (tests; a provider that rotated everything)."""
    _metadata_cache.clear()
    _jwks_cache.clear()


def _http_url(value: object, *, secure: bool) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    allowed = ("https",) if secure else ("https", "http")
    return parts.scheme in allowed and bool(parts.netloc)


def _get_json(url: str, *, what: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        with make_http_client(timeout_seconds=IDP_TIMEOUT_SECONDS) as http:
            response = http.get(url, headers={"Accept": "application/json", **(headers or {})})
    except httpx.HTTPError as exc:
        raise SsoFailed(
            "idp_unreachable", MSG_IDP_UNREACHABLE, status_code=503, detail={"what": what, "error": type(exc).__name__}
        ) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise SsoFailed(
            "idp_unreachable",
            MSG_IDP_UNREACHABLE,
            status_code=503,
            detail={"what": what, "status": response.status_code},
        )
    if response.status_code != 200:
        raise SsoFailed(
            "idp_misconfigured",
            MSG_IDP_MISCONFIGURED,
            status_code=502,
            detail={"what": what, "status": response.status_code},
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SsoFailed(
            "idp_misconfigured",
            MSG_IDP_MISCONFIGURED,
            status_code=502,
            detail={"what": what, "problem": "not a JSON object"},
        )
    return body


def _load_metadata(issuer: str) -> ProviderMetadata:
    document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", what="discovery")
    # OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked.
    if document.get("issuer") != issuer:
        raise SsoFailed(
            "idp_misconfigured",
            MSG_IDP_MISCONFIGURED,
            status_code=502,
            detail={"problem": "issuer in the discovery document differs", "issuer": str(document.get("issuer"))[:300]},
        )
    secure = urlsplit(issuer).scheme == "https"
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not _http_url(document.get(name), secure=secure):
            raise SsoFailed(
                "idp_misconfigured",
                MSG_IDP_MISCONFIGURED,
                status_code=502,
                detail={"problem": f"{name} missing or not a URL"},
            )
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise SsoFailed(
            "idp_misconfigured",
            MSG_IDP_MISCONFIGURED,
            status_code=502,
            detail={"problem": "the provider does not support PKCE S256"},
        )
    userinfo = document.get("userinfo_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=userinfo if _http_url(userinfo, secure=secure) else None,
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported") is True,
    )


def discover(issuer: str) -> ProviderMetadata:
    """The issuer's discovery document, from cache when fresh."""
    return _metadata_cache.get(issuer, lambda: _load_metadata(issuer))


def _load_key_set(jwks_uri: str) -> KeySet:
    document = _get_json(jwks_uri, what="jwks")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise SsoFailed("idp_misconfigured", MSG_IDP_MISCONFIGURED, status_code=502, detail={"problem": "bad JWKS"})
    signing = [k for k in keys if isinstance(k, dict) and k.get("use") in (None, "sig")]
    try:
        return KeySet.import_key_set({"keys": signing})
    except (JoseError, ValueError, TypeError) as exc:
        raise SsoFailed(
            "idp_misconfigured",
            MSG_IDP_MISCONFIGURED,
            status_code=502,
            detail={"problem": f"JWKS unusable: {type(exc).__name__}"},
        ) from exc


def _key_set(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    return _jwks_cache.get(jwks_uri, lambda: _load_key_set(jwks_uri), refresh=refresh)


def _claim_failure(exc: JoseError) -> SsoFailed:
    if isinstance(exc, ExpiredTokenError):
        return SsoFailed("expired", MSG_EXPIRED)
    if isinstance(exc, MissingClaimError):
        return SsoFailed("missing_claims", MSG_INVALID_TOKEN, detail={"claims": exc.claim})
    if isinstance(exc, InvalidClaimError):
        by_claim = {
            "iss": ("wrong_issuer", MSG_WRONG_ISSUER),
            "aud": ("wrong_audience", MSG_WRONG_AUDIENCE),
            "nonce": ("nonce_mismatch", MSG_NONCE),
            "iat": ("bad_time", MSG_BAD_TIME),
            "nbf": ("bad_time", MSG_BAD_TIME),
            "exp": ("bad_time", MSG_BAD_TIME),
        }
        reason, message = by_claim.get(exc.claim, ("invalid_id_token", MSG_INVALID_TOKEN))
        return SsoFailed(reason, message, detail={"claim": exc.claim})
    return SsoFailed("invalid_id_token", MSG_INVALID_TOKEN, detail={"error": type(exc).__name__})


def _half_hash(value: str, alg: str) -> str:
    digest = _AT_HASH.get(alg[-3:], hashlib.sha256)(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


class OidcClient:
    """Authorization code flow with PKCE against one partner's OpenID Provider."""

    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str, redirect_uri: str, leeway: int = CLOCK_LEEWAY_SECONDS
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.leeway = leeway

    def _oauth_client(self) -> OAuth2Client:
        # Same timeouts and User-Agent as portal.core.http.make_http_client.
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=httpx.Timeout(IDP_TIMEOUT_SECONDS, connect=min(3.0, IDP_TIMEOUT_SECONDS)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            event_hooks=event_hooks(),  # request id and log line, as make_http_client's
        )

    # ------------------------------------------------------------------ step 1

    def authorization_request(self) -> AuthorizationRequest:
        metadata = discover(self.issuer)
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)  # 86 unreserved characters (RFC 7636 §4.1: 43-128)
        with self._oauth_client() as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
            )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    # ------------------------------------------------------------------ step 2

    def complete(self, *, code: str, code_verifier: str, nonce: str, returned_issuer: str | None = None) -> Identity:
        """Redeem the code and validate the ID token; the identity it vouches for."""
        metadata = discover(self.issuer)
        # RFC 9207: the authorization response names its issuer (defence against mix-up attacks).
        if returned_issuer is not None and returned_issuer != self.issuer:
            raise SsoFailed("wrong_issuer", MSG_WRONG_ISSUER, detail={"iss_parameter": returned_issuer[:300]})
        if returned_issuer is None and metadata.iss_parameter_supported:
            raise SsoFailed("wrong_issuer", MSG_WRONG_ISSUER, detail={"iss_parameter": None})
        if not code:
            raise SsoFailed("missing_code", MSG_TOKEN_REFUSED)
        token = self._redeem(metadata, code, code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SsoFailed("missing_id_token", MSG_INVALID_TOKEN)
        access_token = token.get("access_token") if isinstance(token.get("access_token"), str) else None
        claims = self.validate_id_token(id_token, nonce=nonce, access_token=access_token)
        if "email" not in claims and metadata.userinfo_endpoint and access_token:
            claims = {**self._userinfo(metadata, access_token, claims["sub"]), **claims}
        email = claims.get("email")
        verified = claims.get("email_verified")
        name = claims.get("name")
        return Identity(
            issuer=self.issuer,
            subject=claims["sub"],
            email=email.strip().lower() if isinstance(email, str) else "",
            email_verified=verified is True or verified == "true",
            name=name if isinstance(name, str) else "",
            claims=claims,
        )

    def _redeem(self, metadata: ProviderMetadata, code: str, code_verifier: str) -> dict[str, Any]:
        try:
            with self._oauth_client() as client:
                token = client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    redirect_uri=self.redirect_uri,
                )
        except AuthlibOAuthError as exc:
            raise SsoFailed(
                "token_refused",
                MSG_TOKEN_REFUSED,
                detail={"error": str(exc.error), "description": str(exc.description or "")[:200]},
            ) from exc
        except httpx.HTTPStatusError as exc:
            raise SsoFailed(
                "idp_unreachable",
                MSG_IDP_UNREACHABLE,
                status_code=503,
                detail={"what": "token", "status": exc.response.status_code},
            ) from exc
        except httpx.HTTPError as exc:
            raise SsoFailed(
                "idp_unreachable",
                MSG_IDP_UNREACHABLE,
                status_code=503,
                detail={"what": "token", "error": type(exc).__name__},
            ) from exc
        except ValueError as exc:  # the token endpoint answered something that is not a JSON object
            raise SsoFailed(
                "idp_misconfigured",
                MSG_IDP_MISCONFIGURED,
                status_code=502,
                detail={"what": "token", "problem": str(exc)[:200]},
            ) from exc
        return dict(token)

    def validate_id_token(self, id_token: str, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        """Verify the signature first, then the claims; the verified claims."""
        metadata = discover(self.issuer)
        try:
            try:
                decoded = jwt.decode(id_token, _key_set(metadata.jwks_uri), algorithms=ID_TOKEN_ALGORITHMS)
            except InvalidKeyIdError:
                # The provider may have rotated its keys since we cached them: fetch once more.
                decoded = jwt.decode(
                    id_token, _key_set(metadata.jwks_uri, refresh=True), algorithms=ID_TOKEN_ALGORITHMS
                )
        except BadSignatureError as exc:
            raise SsoFailed("bad_signature", MSG_BAD_SIGNATURE) from exc
        except InvalidKeyIdError as exc:
            raise SsoFailed("unknown_signing_key", MSG_BAD_SIGNATURE) from exc
        except JoseError as exc:
            raise SsoFailed("invalid_id_token", MSG_INVALID_TOKEN, detail={"error": type(exc).__name__}) from exc
        except (ValueError, TypeError) as exc:  # not a compact JWS at all
            raise SsoFailed("invalid_id_token", MSG_INVALID_TOKEN, detail={"error": type(exc).__name__}) from exc

        claims = decoded.claims
        registry = JWTClaimsRegistry(
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise _claim_failure(exc) from exc
        # The registry compares strings with ==; the nonce is compared in constant time here.
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
            claims["nonce"].encode(), nonce.encode()
        ):
            raise SsoFailed("nonce_mismatch", MSG_NONCE)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.client_id:
            raise SsoFailed("wrong_audience", MSG_WRONG_AUDIENCE, detail={"azp": str(azp)[:200]})
        at_hash = claims.get("at_hash")
        if at_hash is not None and access_token is not None:
            expected = _half_hash(access_token, str(decoded.header.get("alg", "RS256")))
            if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash.encode(), expected.encode()):
                raise SsoFailed("invalid_id_token", MSG_INVALID_TOKEN, detail={"claim": "at_hash"})
        return dict(claims)

    def _userinfo(self, metadata: ProviderMetadata, access_token: str, subject: str) -> dict[str, Any]:
        """Email and name from UserInfo when the ID token leaves them out (OIDC Core §5.3.2: same sub)."""
        assert metadata.userinfo_endpoint is not None
        info = _get_json(
            metadata.userinfo_endpoint, what="userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        if info.get("sub") != subject:
            raise SsoFailed("invalid_id_token", MSG_INVALID_TOKEN, detail={"problem": "userinfo sub differs"})
        return {k: info[k] for k in ("email", "email_verified", "name") if k in info}
