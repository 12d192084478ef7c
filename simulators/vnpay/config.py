"""Configuration of the VNPay sandbox simulator.

Everything can come from `VNPAYSIM_*` environment variables (`SimConfig.from_env`). The
knobs in `RUNTIME_KNOBS` can also be changed while it runs (`PUT /_sim/config`), and a
merchant's settings with `PUT /_sim/merchants/{tmn_code}`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

TMN_CODE = re.compile(r"[A-Za-z0-9]{8}")

#: The demo merchant: the portal as `./run demo` starts it (IPN on the portal's port 8000).
DEMO_TMN_CODE = "PORTALHN"
DEMO_HASH_SECRET = "DEMOSECRETPORTALHN0123456789ABCD"
DEMO_IPN_URL = "http://127.0.0.1:8000/api/payments/vnpay/ipn"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass
class Merchant:
    """A terminal registered with the simulator: its TmnCode, hash secret and IPN URL."""

    tmn_code: str
    hash_secret: str
    ipn_url: str | None = None
    name: str = ""

    def validate(self) -> None:
        if not TMN_CODE.fullmatch(self.tmn_code):
            raise ValueError(f"tmn_code {self.tmn_code!r} is not 8 letters or digits")
        if not self.hash_secret:
            raise ValueError(f"merchant {self.tmn_code}: hash_secret is empty")
        if self.ipn_url is not None:
            parts = urlsplit(self.ipn_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"merchant {self.tmn_code}: ipn_url must be an absolute http(s) URL")

    def public_view(self) -> dict[str, Any]:
        return {"tmn_code": self.tmn_code, "name": self.name, "ipn_url": self.ipn_url}


def default_merchants() -> dict[str, Merchant]:
    demo = Merchant(DEMO_TMN_CODE, DEMO_HASH_SECRET, DEMO_IPN_URL, "Cổng Đại lý Dịch vụ công trực tuyến (demo)")
    return {demo.tmn_code: demo}


@dataclass
class SimConfig:
    merchants: dict[str, Merchant] = field(default_factory=default_merchants)
    #: Wait this long after the customer's choice before the first IPN attempt.
    ipn_delay_seconds: float = 0.0
    #: Send every IPN twice, both copies at once.
    ipn_duplicate: bool = False
    #: Hold IPNs for `ipn_reorder_window_seconds` (or until `POST /_sim/ipn/release`), then send newest first.
    ipn_reorder: bool = False
    ipn_reorder_window_seconds: float = 3.0
    #: Send IPNs with a well-formed but wrong vnp_SecureHash.
    ipn_bad_signature: bool = False
    #: Record IPNs but never send them (the merchant has to ask with querydr).
    ipn_drop: bool = False
    #: Pause between IPN attempts while the merchant does not answer RspCode 00 or 02 (VNPay: 5 minutes).
    ipn_retry_seconds: float = 300.0
    #: Attempts per IPN, the first included (VNPay: 10).
    ipn_max_attempts: int = 10
    ipn_timeout_seconds: float = 10.0
    #: Delay before every merchant web API answer.
    api_latency_ms: float = 0.0
    #: Fraction (0..1) of web API requests answered HTTP 503.
    api_error_rate: float = 0.0
    #: Every web API request answered HTTP 503.
    api_down: bool = False
    #: Web API answers carry a wrong vnp_SecureHash.
    api_bad_signature: bool = False
    #: Seed of the fault generator; None picks one.
    seed: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if (raw := env.get("VNPAYSIM_MERCHANTS", "").strip()) != "":
            values["merchants"] = parse_merchants(raw)
        for name, kind in {**RUNTIME_KNOBS, "seed": "optional_int"}.items():
            var = f"VNPAYSIM_{name.upper()}"
            raw = env.get(var, "").strip()
            if raw == "":
                continue
            try:
                values[name] = coerce_knob(name, raw if kind != "optional_int" else int(raw), kind)
            except ValueError as exc:
                raise ValueError(f"{var}: {exc}") from None
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        for merchant in self.merchants.values():
            merchant.validate()
        for name, kind in RUNTIME_KNOBS.items():
            coerce_knob(name, getattr(self, name), kind)

    def public_view(self) -> dict[str, Any]:
        view = {name: getattr(self, name) for name in RUNTIME_KNOBS}
        view["seed"] = self.seed
        view["merchants"] = [m.public_view() for m in self.merchants.values()]
        return view


#: What `PUT /_sim/config` may change, and the kind of each value.
RUNTIME_KNOBS: dict[str, str] = {
    "ipn_delay_seconds": "non_negative",
    "ipn_duplicate": "bool",
    "ipn_reorder": "bool",
    "ipn_reorder_window_seconds": "non_negative",
    "ipn_bad_signature": "bool",
    "ipn_drop": "bool",
    "ipn_retry_seconds": "non_negative",
    "ipn_max_attempts": "positive_int",
    "ipn_timeout_seconds": "positive",
    "api_latency_ms": "non_negative",
    "api_error_rate": "rate",
    "api_down": "bool",
    "api_bad_signature": "bool",
}


def coerce_knob(name: str, value: Any, kind: str | None = None) -> Any:
    """One knob value from JSON or the environment; ValueError says what is wrong."""
    kind = kind or RUNTIME_KNOBS[name]
    if kind == "optional_int":
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError(f"{name} must be an integer")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"{name} must be true or false")
    if isinstance(value, str):
        try:
            value = float(value) if kind != "positive_int" else int(value)
        except ValueError:
            raise ValueError(f"{name} must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if kind == "positive_int":
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1")
        return value
    number = float(value)
    if kind == "rate" and not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    if kind == "non_negative" and number < 0:
        raise ValueError(f"{name} must not be negative")
    if kind == "positive" and number <= 0:
        raise ValueError(f"{name} must be positive")
    return number


def parse_merchants(raw: str) -> dict[str, Merchant]:
    """`VNPAYSIM_MERCHANTS`: a JSON list of {"tmn_code", "hash_secret", "ipn_url"?, "name"?}."""
    try:
        items = json.loads(raw)
    except ValueError:
        raise ValueError("VNPAYSIM_MERCHANTS is not valid JSON") from None
    if not isinstance(items, list) or not items:
        raise ValueError("VNPAYSIM_MERCHANTS must be a non-empty JSON list")
    merchants: dict[str, Merchant] = {}
    for item in items:
        merchant = merchant_from_json(item)
        if merchant.tmn_code in merchants:
            raise ValueError(f"VNPAYSIM_MERCHANTS lists {merchant.tmn_code} twice")
        merchants[merchant.tmn_code] = merchant
    return merchants


def merchant_from_json(item: Any, tmn_code: str | None = None) -> Merchant:
    if not isinstance(item, dict):
        raise ValueError("a merchant is a JSON object")
    unknown = set(item) - {"tmn_code", "hash_secret", "ipn_url", "name"}
    if unknown:
        raise ValueError(f"unknown merchant field(s): {', '.join(sorted(unknown))}")
    code = tmn_code if tmn_code is not None else item.get("tmn_code")
    secret, ipn_url, name = item.get("hash_secret"), item.get("ipn_url"), item.get("name", "")
    if not isinstance(code, str) or not isinstance(secret, str):
        raise ValueError("tmn_code and hash_secret are required strings")
    if ipn_url is not None and not isinstance(ipn_url, str):
        raise ValueError("ipn_url must be a string or null")
    if not isinstance(name, str):
        raise ValueError("name must be a string")
    merchant = Merchant(code, secret, ipn_url or None, name)
    merchant.validate()
    return merchant
