"""Settings, read once from the environment.

The defaults make `portal demo` work on a fresh machine (SQLite file, Celery on
kombu's filesystem transport, the simulators on loopback). In production mode
(`PORTAL_ENV=production`) every secret and outside-system address must be set
explicitly; start-up stops with a message naming each missing or invalid one.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ENVIRONMENTS = ("demo", "test", "production")

# Demo-only secrets: public on purpose, refused in production.
_DEMO_SECRET_KEY = "demo-only-secret-key-change-me-in-production-0000"
_DEMO_DATA_KEY = base64.urlsafe_b64encode(b"demo-only-data-key-32-bytes-long").decode()


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class ObservabilitySettings:
    """Logs and metrics (docs/operations.md)."""

    log_format: str = "text"  # "json" (default in production) or "text"
    log_level: str = "INFO"
    # Bearer token Prometheus presents on /metrics and the worker's exporter;
    # without one, production refuses every scrape (demo and test allow them).
    metrics_token: str | None = None
    # The worker's own exporter (its prefork children cannot answer HTTP): off when no port.
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database_url: str
    database_migration_url: str
    database_app_role: str | None
    broker_url: str
    secret_key: str
    data_key: bytes
    public_url: str
    city_api_url: str
    city_client_id: str
    city_client_secret: str
    city_webhook_secret: str
    city_timeout_seconds: float
    forward_max_retries: int
    forward_retry_base_seconds: float
    stuck_after_seconds: int
    sweep_interval_seconds: float
    login_max_failures: int
    login_lockout_seconds: int
    default_language: str = "vi"
    # Lifetime of the bearer tokens partner systems get from /api/oauth/token.
    api_token_ttl_seconds: int = 900
    # Prepended to every queue and exchange name, so deployments (or test runs) can share one broker.
    broker_queue_prefix: str = ""
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def broker_folder(self) -> Path:
        return self.var_dir / "broker"

    @property
    def city_callback_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/api/city/callbacks"


def _int(env: dict[str, str], name: str, default: int, errors: list[str]) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(f"{name} must be a whole number, got {raw!r}")
        return default


def _float(env: dict[str, str], name: str, default: float, errors: list[str]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        errors.append(f"{name} must be a number, got {raw!r}")
        return default


def _observability(env: dict[str, str], production: bool, errors: list[str]) -> ObservabilitySettings:
    log_format = (env.get("LOG_FORMAT") or ("json" if production else "text")).lower()
    if log_format not in LOG_FORMATS:
        errors.append(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        errors.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    token = env.get("METRICS_TOKEN") or None
    if token is not None and len(token) < 16:
        errors.append("METRICS_TOKEN must be at least 16 characters")
    port = _int(env, "WORKER_METRICS_PORT", 0, errors)
    if not 0 <= port <= 65535:
        errors.append("WORKER_METRICS_PORT must be a TCP port (1-65535), or 0/empty for none")
    return ObservabilitySettings(
        log_format=log_format,
        log_level=log_level,
        metrics_token=token,
        worker_metrics_port=port or None,
        worker_metrics_host=env.get("WORKER_METRICS_HOST") or "127.0.0.1",
    )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping; raise SettingsError on problems."""
    env = dict(os.environ if environ is None else environ)
    errors: list[str] = []

    mode = env.get("PORTAL_ENV", "demo")
    if mode not in ENVIRONMENTS:
        raise SettingsError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")
    production = mode == "production"

    def required(name: str, demo_default: str) -> str:
        value = env.get(name, "")
        if value:
            return value
        if production:
            errors.append(f"{name} is required in production")
        return demo_default

    var_dir = Path(env.get("PORTAL_VAR_DIR") or Path.cwd() / "var").resolve()
    database_url = required("DATABASE_URL", f"sqlite:///{var_dir / 'portal.db'}")
    if database_url.startswith("postgresql://"):
        # One driver everywhere: psycopg 3.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    if not (database_url.startswith("sqlite") or database_url.startswith("postgresql+psycopg")):
        errors.append("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    migration_url = env.get("DATABASE_MIGRATION_URL") or database_url
    if migration_url.startswith("postgresql://"):
        migration_url = "postgresql+psycopg://" + migration_url[len("postgresql://") :]

    broker_url = required("CELERY_BROKER_URL", "filesystem://")
    if production and broker_url.startswith("filesystem"):
        errors.append("CELERY_BROKER_URL must name Redis or RabbitMQ in production (filesystem:// is the demo broker)")
    queue_prefix = env.get("CELERY_QUEUE_PREFIX", "")
    if not re.fullmatch(r"[A-Za-z0-9._-]*", queue_prefix):
        errors.append(f"CELERY_QUEUE_PREFIX may hold only letters, digits, '.', '_' and '-', got {queue_prefix!r}")

    secret_key = required("PORTAL_SECRET_KEY", _DEMO_SECRET_KEY)
    if production and (secret_key == _DEMO_SECRET_KEY or len(secret_key) < 32):
        errors.append("PORTAL_SECRET_KEY must be at least 32 characters and not the demo key")

    data_key_raw = required("PORTAL_DATA_KEY", _DEMO_DATA_KEY)
    data_key = b""
    try:
        data_key = base64.urlsafe_b64decode(data_key_raw.encode())
        if len(data_key) != 32:
            raise ValueError
    except (ValueError, TypeError):
        errors.append("PORTAL_DATA_KEY must be 32 bytes, url-safe base64 encoded")
    if production and data_key_raw == _DEMO_DATA_KEY:
        errors.append("PORTAL_DATA_KEY must not be the demo key in production")

    observability = _observability(env, production, errors)
    settings = Settings(
        env=mode,
        var_dir=var_dir,
        database_url=database_url,
        database_migration_url=migration_url,
        database_app_role=env.get("DATABASE_APP_ROLE") or None,
        broker_url=broker_url,
        secret_key=secret_key,
        data_key=data_key,
        public_url=required("PORTAL_PUBLIC_URL", "http://127.0.0.1:8000"),
        city_api_url=required("CITY_API_URL", "http://127.0.0.1:8100"),
        city_client_id=required("CITY_CLIENT_ID", "portal-demo"),
        city_client_secret=required("CITY_CLIENT_SECRET", "portal-demo-secret"),
        city_webhook_secret=required("CITY_WEBHOOK_SECRET", "city-webhook-demo-secret"),
        city_timeout_seconds=_float(env, "CITY_TIMEOUT_SECONDS", 10.0, errors),
        forward_max_retries=_int(env, "FORWARD_MAX_RETRIES", 8, errors),
        forward_retry_base_seconds=_float(env, "FORWARD_RETRY_BASE_SECONDS", 2.0, errors),
        stuck_after_seconds=_int(env, "FORWARD_STUCK_AFTER_SECONDS", 120, errors),
        sweep_interval_seconds=_float(env, "FORWARD_SWEEP_INTERVAL_SECONDS", 30.0, errors),
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5, errors),
        login_lockout_seconds=_int(env, "LOGIN_LOCKOUT_SECONDS", 900, errors),
        default_language=env.get("PORTAL_LANGUAGE", "vi"),
        api_token_ttl_seconds=_int(env, "API_TOKEN_TTL_SECONDS", 900, errors),
        broker_queue_prefix=queue_prefix,
        observability=observability,
    )
    if settings.api_token_ttl_seconds <= 0 or settings.api_token_ttl_seconds > 86400:
        errors.append("API_TOKEN_TTL_SECONDS must be between 1 and 86400")
    if errors:
        raise SettingsError("Invalid settings:\n  - " + "\n  - ".join(errors))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The one settings object of this process."""
    return load_settings()
