"""Static configuration of the identity-provider simulator.

The simulator hosts one OpenID Connect issuer per *tenant* (one per partner
company). Tenants, their registered OAuth clients and their user accounts are
described by a small JSON document, read from the environment:

``IDP_PUBLIC_URL``
    Base URL the simulator is reachable at (default ``http://127.0.0.1:8200``).
    The issuer of tenant ``vnpost`` is ``{IDP_PUBLIC_URL}/vnpost``.
``IDP_TENANTS_FILE``
    Path to a JSON file describing the tenants.
``IDP_TENANTS``
    The same JSON, inline. ``IDP_TENANTS_FILE`` wins when both are set.
    Without either, the two demo tenants below (``vnpost``, ``viettelpost``).
``IDP_CLIENTS``
    Optional JSON ``{"<tenant>": [<client>, ...]}``: replaces the registered
    clients of those tenants and keeps everything else (their users). The
    portal's demo uses it to register its own redirect URIs.
``IDP_KEYS_DIR``
    Optional directory where the per-tenant RSA signing keys are persisted, so
    that restarting the simulator keeps the same ``kid`` and key material.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8200"
DEFAULT_PORTAL_URL = "http://127.0.0.1:8000"

# Tenant names become the first path segment of every issuer URL. Names that
# start with "_" are reserved for the simulator's own control endpoints.
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_RESERVED_TENANT_NAMES = frozenset({"healthz"})


class ConfigError(ValueError):
    """Raised when the tenants document is malformed."""


@dataclass(frozen=True)
class ClientConfig:
    """An OAuth 2.0 client (relying party) registered at one tenant."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserConfig:
    """An end-user account that can sign in at one tenant."""

    sub: str
    email: str
    name: str
    password: str
    email_verified: bool = True
    #: Extra claims merged into the ID token and the UserInfo response.
    claims: Mapping[str, Any] = field(default_factory=dict)

    def public_view(self) -> dict[str, Any]:
        """The account as shown by the control API (never the password)."""
        return {
            "sub": self.sub,
            "email": self.email,
            "name": self.name,
            "email_verified": self.email_verified,
            **({"claims": dict(self.claims)} if self.claims else {}),
        }


@dataclass(frozen=True)
class TenantConfig:
    """One simulated identity provider (one partner company)."""

    name: str
    clients: tuple[ClientConfig, ...]
    users: tuple[UserConfig, ...]
    display_name: str = ""

    @property
    def title(self) -> str:
        return self.display_name or self.name

    def client(self, client_id: str) -> ClientConfig | None:
        for client in self.clients:
            if client.client_id == client_id:
                return client
        return None


@dataclass(frozen=True)
class IdpConfig:
    """Everything the simulator needs to start."""

    public_url: str = DEFAULT_PUBLIC_URL
    tenants: Mapping[str, TenantConfig] = field(default_factory=lambda: default_tenants())
    keys_dir: Path | None = None
    #: Lifetime of authorization codes (seconds).
    code_ttl: int = 60
    #: Lifetime of access tokens (seconds).
    access_token_ttl: int = 3600
    #: Default lifetime of ID tokens (seconds); the ``id_token_ttl`` knob overrides it.
    id_token_ttl: int = 300

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        for name in self.tenants:
            _check_tenant_name(name)

    def issuer(self, tenant: str) -> str:
        return f"{self.public_url}/{tenant}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IdpConfig:
        """Build the configuration from ``IDP_*`` environment variables."""
        env = os.environ if env is None else env
        public_url = env.get("IDP_PUBLIC_URL") or DEFAULT_PUBLIC_URL
        tenants_file = env.get("IDP_TENANTS_FILE")
        tenants_inline = env.get("IDP_TENANTS")
        if tenants_file:
            try:
                document = json.loads(Path(tenants_file).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigError(f"cannot read IDP_TENANTS_FILE {tenants_file!r}: {exc}") from exc
        elif tenants_inline:
            try:
                document = json.loads(tenants_inline)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"IDP_TENANTS is not valid JSON: {exc}") from exc
        else:
            document = copy.deepcopy(DEFAULT_TENANTS_DOCUMENT)
        if env.get("IDP_CLIENTS"):
            document = with_clients(document, env["IDP_CLIENTS"])
        tenants = parse_tenants(document)
        keys_dir = env.get("IDP_KEYS_DIR")
        return cls(
            public_url=public_url,
            tenants=tenants,
            keys_dir=Path(keys_dir) if keys_dir else None,
        )


def with_clients(document: Any, clients_json: str) -> Any:
    """The tenants document with the clients of some tenants replaced (``IDP_CLIENTS``)."""
    try:
        clients = json.loads(clients_json)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"IDP_CLIENTS is not valid JSON: {exc}") from exc
    if not isinstance(clients, Mapping) or not isinstance(document, Mapping):
        raise ConfigError('IDP_CLIENTS must be a JSON object {"<tenant>": [<client>, ...]}')
    merged = dict(document)
    for name, tenant_clients in clients.items():
        if name not in merged:
            raise ConfigError(f"IDP_CLIENTS names tenant {name!r}, which is not configured")
        merged[name] = {**merged[name], "clients": tenant_clients}
    return merged


def _check_tenant_name(name: str) -> None:
    if not _TENANT_NAME.match(name) or name in _RESERVED_TENANT_NAMES:
        raise ConfigError(
            f"invalid tenant name {name!r}: use lowercase letters, digits, '-' or '_' "
            "(not starting with '_', not 'healthz')"
        )


def _require_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key!r} must be a non-empty string")
    return value


def _str_list(obj: Mapping[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = obj.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: {key!r} must be a list of non-empty strings")
    if required and not value:
        raise ConfigError(f"{where}: {key!r} must not be empty")
    return tuple(value)


def parse_user(obj: Any, where: str) -> UserConfig:
    """Validate one user entry (as found in the tenants JSON or the control API)."""
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: a user must be a JSON object")
    claims = obj.get("claims", {})
    if not isinstance(claims, Mapping):
        raise ConfigError(f"{where}: 'claims' must be a JSON object")
    email_verified = obj.get("email_verified", True)
    if not isinstance(email_verified, bool):
        raise ConfigError(f"{where}: 'email_verified' must be a boolean")
    return UserConfig(
        sub=_require_str(obj, "sub", where),
        email=_require_str(obj, "email", where),
        name=_require_str(obj, "name", where),
        password=_require_str(obj, "password", where),
        email_verified=email_verified,
        claims=dict(claims),
    )


def parse_tenants(document: Any) -> dict[str, TenantConfig]:
    """Validate a tenants document: ``{"<tenant>": {"clients": [...], "users": [...]}}``."""
    if not isinstance(document, Mapping) or not document:
        raise ConfigError("the tenants document must be a non-empty JSON object")
    tenants: dict[str, TenantConfig] = {}
    for name, body in document.items():
        _check_tenant_name(name)
        if not isinstance(body, Mapping):
            raise ConfigError(f"tenant {name!r}: must be a JSON object")
        raw_clients = body.get("clients")
        raw_users = body.get("users", [])
        if not isinstance(raw_clients, list) or not raw_clients:
            raise ConfigError(f"tenant {name!r}: 'clients' must be a non-empty list")
        if not isinstance(raw_users, list):
            raise ConfigError(f"tenant {name!r}: 'users' must be a list")
        clients = []
        for i, raw in enumerate(raw_clients):
            where = f"tenant {name!r} client #{i}"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{where}: must be a JSON object")
            clients.append(
                ClientConfig(
                    client_id=_require_str(raw, "client_id", where),
                    client_secret=_require_str(raw, "client_secret", where),
                    redirect_uris=_str_list(raw, "redirect_uris", where, required=True),
                    post_logout_redirect_uris=_str_list(raw, "post_logout_redirect_uris", where, required=False),
                )
            )
        users = [parse_user(raw, f"tenant {name!r} user #{i}") for i, raw in enumerate(raw_users)]
        _check_unique([c.client_id for c in clients], f"tenant {name!r}: duplicate client_id")
        _check_unique([u.sub for u in users], f"tenant {name!r}: duplicate user sub")
        _check_unique([u.email.lower() for u in users], f"tenant {name!r}: duplicate user email")
        display_name = body.get("display_name", "")
        if not isinstance(display_name, str):
            raise ConfigError(f"tenant {name!r}: 'display_name' must be a string")
        tenants[name] = TenantConfig(name=name, clients=tuple(clients), users=tuple(users), display_name=display_name)
    return tenants


def _check_unique(values: list[str], message: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"{message}: {value!r}")
        seen.add(value)


def _default_client(tenant: str, portal_url: str = DEFAULT_PORTAL_URL) -> dict[str, Any]:
    return {
        "client_id": f"portal-{tenant}",
        "client_secret": f"portal-{tenant}-secret",
        "redirect_uris": [f"{portal_url}/auth/sso/{tenant}/callback"],
        "post_logout_redirect_uris": [f"{portal_url}/", f"{portal_url}/login"],
    }


DEFAULT_TENANTS_DOCUMENT: dict[str, Any] = {
    "vnpost": {
        "display_name": "Vietnam Post (VNPost)",
        "clients": [_default_client("vnpost")],
        "users": [
            {"sub": "u-001", "email": "lan.nguyen@vnpost.vn", "name": "Nguyễn Thị Lan", "password": "demo"},
            {"sub": "u-002", "email": "minh.tran@vnpost.vn", "name": "Trần Văn Minh", "password": "demo"},
        ],
    },
    "viettelpost": {
        "display_name": "Viettel Post",
        "clients": [_default_client("viettelpost")],
        "users": [
            {"sub": "u-101", "email": "hoa.le@viettelpost.com.vn", "name": "Lê Thị Hoa", "password": "demo"},
            {"sub": "u-102", "email": "duc.pham@viettelpost.com.vn", "name": "Phạm Minh Đức", "password": "demo"},
        ],
    },
}


def default_tenants() -> dict[str, TenantConfig]:
    """Two demo tenants, ``vnpost`` and ``viettelpost``, one client and two users each."""
    return parse_tenants(DEFAULT_TENANTS_DOCUMENT)
