"""Configuration of the brand-name SMS gateway simulator.

Every setting can come from an ``SMSSIM_*`` environment variable (see
:meth:`SmsSimConfig.from_env`).  The subset listed in :data:`RUNTIME_KNOBS` can
also be changed while the simulator runs, through ``PUT /_sim/config``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .phones import InvalidPhone, normalise_msisdn

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

#: Alphanumeric sender ids: at most 11 characters (the GSM limit), letters, digits, ``.``, ``-``, ``_``, space.
BRAND_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,10}")


@dataclass(frozen=True)
class Account:
    """One customer of the gateway: its API key, its registered brand names, its report-signing secret."""

    name: str
    api_key: str
    brands: tuple[str, ...]
    webhook_secret: str

    def public_view(self) -> dict[str, Any]:
        return {"name": self.name, "brands": list(self.brands)}


DEFAULT_ACCOUNTS = (
    Account(
        name="portal-demo",
        api_key="portal-demo-key",
        brands=("DVC-HANOI",),
        webhook_secret="sms-webhook-demo-secret",
    ),
)


@dataclass
class SmsSimConfig:
    """All settings of one simulator instance."""

    #: Customers of the gateway (API key -> registered brand names, webhook secret).
    accounts: tuple[Account, ...] = DEFAULT_ACCOUNTS
    #: Accept text that needs UCS-2 (Vietnamese with diacritics).  When off, such
    #: text is refused with ``unicode_not_allowed``, as on gateways that only take
    #: unaccented brand-name messages.
    allow_unicode: bool = True
    #: Longest message accepted, in segments (concatenated SMS parts).
    max_segments: int = 5
    #: Artificial delay before answering an /api request (use it to provoke client timeouts).
    latency_ms: float = 0.0
    #: Fraction (0..1) of /api requests answered 503 before anything happens.
    error_rate: float = 0.0
    #: Fraction (0..1) of accepted messages whose answer is replaced by a 503
    #: *after* the message was accepted (only an idempotent retry reveals its id).
    lost_response_rate: float = 0.0
    #: Every /api request gets 503 (outage).
    down: bool = False
    #: Numbers (any accepted form) the gateway refuses outright, e.g. opted out.
    refused_numbers: frozenset[str] = frozenset()
    #: Fraction (0..1) of accepted messages whose delivery report says ``failed``.
    delivery_failure_rate: float = 0.0
    #: Seconds between acceptance and the delivery report.
    delivery_delay_seconds: float = 1.0
    #: Produce delivery reports by themselves; when off, only ``/_sim/messages/{id}/report`` does.
    auto_report: bool = True
    #: POST every delivery report twice (same report id).
    duplicate_reports: bool = False
    #: First retry delay of a delivery report that was not answered 2xx; doubles on every retry.
    report_retry_base: float = 1.0
    #: Attempts per delivery report, the first one included.
    report_max_attempts: int = 6
    #: Timeout of one report HTTP request, in seconds.
    report_timeout: float = 5.0
    #: Seed of the random generators; ``None`` picks one at start-up.
    seed: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmsSimConfig:
        """Build a configuration from ``SMSSIM_*`` variables (missing ones keep their defaults)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}

        def get(name: str) -> str | None:
            raw = env.get(name)
            return None if raw is None or raw.strip() == "" else raw.strip()

        if (raw := get("SMSSIM_ACCOUNTS")) is not None:
            values["accounts"] = parse_accounts(raw)
        if (raw := get("SMSSIM_REFUSED_NUMBERS")) is not None:
            values["refused_numbers"] = parse_numbers(raw.split(","), "SMSSIM_REFUSED_NUMBERS")
        for name, kind in {**RUNTIME_KNOBS, **_STARTUP_ONLY}.items():
            if kind == "numbers":
                continue
            var = "SMSSIM_" + name.upper()
            if (raw := get(var)) is None:
                continue
            if kind == "bool":
                values[name] = parse_bool(raw, var)
            elif kind in ("int", "positive_int"):
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"{var} must be an integer, got {raw!r}") from None
            else:
                try:
                    values[name] = float(raw)
                except ValueError:
                    raise ValueError(f"{var} must be a number, got {raw!r}") from None
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` when a setting is out of range."""
        if not self.accounts:
            raise ValueError("at least one account is required")
        keys = [account.api_key for account in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("two accounts share an API key")
        for name, kind in {**RUNTIME_KNOBS, **_STARTUP_ONLY}.items():
            if kind in ("bool", "numbers"):
                continue
            value = getattr(self, name)
            if value is None:
                continue
            _check_range(name, kind, value)

    def copy(self) -> SmsSimConfig:
        return dataclasses.replace(self)

    def account_for_key(self, api_key: str) -> Account | None:
        for account in self.accounts:
            if account.api_key == api_key:
                return account
        return None

    def public_view(self) -> dict[str, Any]:
        """The configuration as shown by ``GET /_sim/config`` (API keys and secrets left out)."""
        view: dict[str, Any] = {name: getattr(self, name) for name in RUNTIME_KNOBS}
        view["refused_numbers"] = sorted(self.refused_numbers)
        view["seed"] = self.seed
        view["report_timeout"] = self.report_timeout
        view["accounts"] = [account.public_view() for account in self.accounts]
        return view


#: Settings that ``PUT /_sim/config`` may change, with their kind.
RUNTIME_KNOBS: dict[str, str] = {
    "allow_unicode": "bool",
    "max_segments": "positive_int",
    "latency_ms": "non_negative",
    "error_rate": "rate",
    "lost_response_rate": "rate",
    "down": "bool",
    "refused_numbers": "numbers",
    "delivery_failure_rate": "rate",
    "delivery_delay_seconds": "non_negative",
    "auto_report": "bool",
    "duplicate_reports": "bool",
    "report_retry_base": "non_negative",
    "report_max_attempts": "positive_int",
}
_STARTUP_ONLY: dict[str, str] = {"report_timeout": "positive", "seed": "int"}


def _check_range(name: str, kind: str, number: float) -> None:
    if kind == "rate" and not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {number}")
    if kind == "non_negative" and number < 0:
        raise ValueError(f"{name} must not be negative, got {number}")
    if kind in ("positive", "positive_int") and number <= 0:
        raise ValueError(f"{name} must be positive, got {number}")


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
    if kind == "numbers":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name} must be a list of phone numbers (strings)")
        return parse_numbers(value, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if kind == "positive_int":
        if value != int(value):
            raise ValueError(f"{name} must be an integer")
        value = int(value)
    else:
        value = float(value)
    _check_range(name, kind, value)
    return value


def parse_bool(raw: str, name: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be 0 or 1, got {raw!r}")


def parse_numbers(raw: Iterable[str], name: str) -> frozenset[str]:
    """Phone numbers in any accepted form, normalised to ``84xxxxxxxxx``."""
    numbers: set[str] = set()
    for item in raw:
        if not item.strip():
            continue
        try:
            numbers.add(normalise_msisdn(item))
        except InvalidPhone as exc:
            raise ValueError(f"{name}: {item!r} is not a Vietnamese mobile number ({exc})") from None
    return frozenset(numbers)


def parse_accounts(raw: str) -> tuple[Account, ...]:
    """Parse ``SMSSIM_ACCOUNTS``: a JSON list of ``{"name", "api_key", "brands", "webhook_secret"}``."""
    try:
        items = json.loads(raw)
    except ValueError:
        raise ValueError("SMSSIM_ACCOUNTS is not valid JSON") from None
    if not isinstance(items, list) or not items:
        raise ValueError("SMSSIM_ACCOUNTS must be a non-empty JSON list of accounts")
    accounts = []
    for index, item in enumerate(items):
        where = f"SMSSIM_ACCOUNTS[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where} must be an object")
        strings = {}
        for key in ("name", "api_key", "webhook_secret"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}.{key} must be a non-empty string")
            strings[key] = value.strip()
        brands = item.get("brands")
        if not isinstance(brands, list) or not brands or not all(isinstance(b, str) for b in brands):
            raise ValueError(f"{where}.brands must be a non-empty list of strings")
        for brand in brands:
            if not BRAND_PATTERN.fullmatch(brand):
                raise ValueError(
                    f"{where}.brands: {brand!r} is not a sender id (1-11 letters, digits, '.', '-', '_', space)"
                )
        accounts.append(Account(brands=tuple(brands), **strings))
    return tuple(accounts)


__all__ = ["DEFAULT_ACCOUNTS", "RUNTIME_KNOBS", "Account", "SmsSimConfig", "coerce_knob"]
