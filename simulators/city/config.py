"""Configuration of the city one-stop system simulator.

Every setting can come from a ``CITYSIM_*`` environment variable (see
:meth:`SimConfig.from_env`).  The subset listed in :data:`RUNTIME_KNOBS` can
also be changed while the simulator runs through ``PUT /_sim/config``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLIENTS = {"portal-demo": "portal-demo-secret"}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class SimConfig:
    """All settings of one simulator instance."""

    #: OAuth2 clients accepted by ``POST /oauth/token``: client_id -> client_secret.
    clients: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLIENTS))
    #: Secret used to sign callbacks (HMAC-SHA256).
    webhook_secret: str = "city-webhook-demo-secret"
    #: Seconds between automatic status steps of a dossier; 0 disables them.
    step_seconds: float = 3.0
    #: Artificial delay before answering /oauth and /api requests.
    latency_ms: float = 0.0
    #: A further delay before answering a submission (``POST /api/dossiers``) only: a slow intake
    #: while status look-ups stay quick.
    submit_latency_ms: float = 0.0
    #: Fraction (0..1) of /oauth and /api requests answered 503.
    error_rate: float = 0.0
    #: Send every callback twice.
    duplicate_callbacks: bool = False
    #: Hold the callbacks of a dossier for a while and deliver them newest first.
    out_of_order: bool = False
    #: How long callbacks are held when ``out_of_order`` is on.  ``None`` means
    #: ``max(1 s, 2.5 * step_seconds)`` so that several steps pile up.
    out_of_order_delay: float | None = None
    #: Fraction (0..1) of dossiers refused at intake (status 3).
    refuse_rate: float = 0.0
    #: Fraction (0..1) of dossiers that get one request for additional documents (status 5).
    supplement_rate: float = 0.0
    #: Fraction (0..1) of accepted submissions whose response is replaced by a 503
    #: *after* the dossier was created (exercises idempotent retries).
    lost_response_rate: float = 0.0
    #: Seed of the random generators; ``None`` picks one at start-up.
    seed: int | None = None
    #: Every /oauth and /api request gets 503 (outage).
    down: bool = False
    #: Lifetime of access tokens in seconds.
    token_ttl: float = 3600.0
    #: First retry delay of a failed callback; doubles on every retry.
    callback_retry_base: float = 1.0
    #: Attempts per callback delivery, the first one included.
    callback_max_attempts: int = 6
    #: Timeout of one callback HTTP request, in seconds.
    callback_timeout: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        """Build a configuration from ``CITYSIM_*`` variables (missing ones keep defaults)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}

        def get(name: str) -> str | None:
            raw = env.get(name)
            return None if raw is None or raw.strip() == "" else raw.strip()

        if (raw := get("CITYSIM_CLIENTS")) is not None:
            values["clients"] = parse_clients(raw)
        if (raw := env.get("CITYSIM_WEBHOOK_SECRET")) is not None:
            if not raw:
                raise ValueError("CITYSIM_WEBHOOK_SECRET must not be empty")
            values["webhook_secret"] = raw
        floats = {
            "CITYSIM_STEP_SECONDS": "step_seconds",
            "CITYSIM_LATENCY_MS": "latency_ms",
            "CITYSIM_SUBMIT_LATENCY_MS": "submit_latency_ms",
            "CITYSIM_ERROR_RATE": "error_rate",
            "CITYSIM_OUT_OF_ORDER_DELAY": "out_of_order_delay",
            "CITYSIM_REFUSE_RATE": "refuse_rate",
            "CITYSIM_SUPPLEMENT_RATE": "supplement_rate",
            "CITYSIM_LOST_RESPONSE_RATE": "lost_response_rate",
            "CITYSIM_TOKEN_TTL": "token_ttl",
            "CITYSIM_CALLBACK_RETRY_BASE": "callback_retry_base",
            "CITYSIM_CALLBACK_TIMEOUT": "callback_timeout",
        }
        for var, attr in floats.items():
            if (raw := get(var)) is not None:
                try:
                    values[attr] = float(raw)
                except ValueError:
                    raise ValueError(f"{var} must be a number, got {raw!r}") from None
        bools = {
            "CITYSIM_DUPLICATE_CALLBACKS": "duplicate_callbacks",
            "CITYSIM_OUT_OF_ORDER": "out_of_order",
            "CITYSIM_DOWN": "down",
        }
        for var, attr in bools.items():
            if (raw := get(var)) is not None:
                values[attr] = parse_bool(raw, var)
        ints = {"CITYSIM_SEED": "seed", "CITYSIM_CALLBACK_MAX_ATTEMPTS": "callback_max_attempts"}
        for var, attr in ints.items():
            if (raw := get(var)) is not None:
                try:
                    values[attr] = int(raw)
                except ValueError:
                    raise ValueError(f"{var} must be an integer, got {raw!r}") from None
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` when a setting is out of range."""
        if not self.clients:
            raise ValueError("at least one OAuth2 client is required")
        for name in ("error_rate", "refuse_rate", "supplement_rate", "lost_response_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("step_seconds", "latency_ms", "submit_latency_ms", "callback_retry_base"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.out_of_order_delay is not None and self.out_of_order_delay < 0:
            raise ValueError("out_of_order_delay must not be negative")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if self.callback_timeout <= 0:
            raise ValueError("callback_timeout must be positive")
        if self.callback_max_attempts < 1:
            raise ValueError("callback_max_attempts must be at least 1")

    def copy(self) -> SimConfig:
        return dataclasses.replace(self, clients=dict(self.clients))

    def public_view(self) -> dict[str, Any]:
        """The configuration as shown by ``GET /_sim/config`` (secrets left out)."""
        view = {name: getattr(self, name) for name in RUNTIME_KNOBS}
        view["seed"] = self.seed
        view["client_ids"] = sorted(self.clients)
        view["callback_max_attempts"] = self.callback_max_attempts
        view["callback_timeout"] = self.callback_timeout
        return view


#: Settings that ``PUT /_sim/config`` may change, with their kind.
RUNTIME_KNOBS: dict[str, str] = {
    "latency_ms": "non_negative",
    "submit_latency_ms": "non_negative",
    "error_rate": "rate",
    "duplicate_callbacks": "bool",
    "out_of_order": "bool",
    "out_of_order_delay": "optional_non_negative",
    "refuse_rate": "rate",
    "supplement_rate": "rate",
    "lost_response_rate": "rate",
    "step_seconds": "non_negative",
    "down": "bool",
    "token_ttl": "positive",
    "callback_retry_base": "non_negative",
}


def coerce_knob(name: str, value: Any) -> Any:
    """Check one runtime knob value from JSON; raise ``ValueError`` with a readable message."""
    kind = RUNTIME_KNOBS[name]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            return parse_bool(value, name)
        raise ValueError(f"{name} must be a boolean (true/false or 0/1)")
    if kind == "optional_non_negative" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    number = float(value)
    if kind == "rate" and not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    if kind in ("non_negative", "optional_non_negative") and number < 0:
        raise ValueError(f"{name} must not be negative")
    if kind == "positive" and number <= 0:
        raise ValueError(f"{name} must be positive")
    return number


def parse_bool(raw: str, name: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be 0 or 1, got {raw!r}")


def parse_clients(raw: str) -> dict[str, str]:
    """Parse ``id1:secret1,id2:secret2``."""
    clients: dict[str, str] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        client_id, sep, secret = item.partition(":")
        if not sep or not client_id or not secret:
            raise ValueError(f"CITYSIM_CLIENTS entry {item!r} is not client_id:client_secret")
        clients[client_id] = secret
    if not clients:
        raise ValueError("CITYSIM_CLIENTS lists no client")
    return clients
