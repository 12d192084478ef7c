"""Settings, read once from the environment, in one section per concern.

The defaults make `portal demo` work on a fresh machine (SQLite file, Celery on
kombu's filesystem transport, the simulators on loopback). In production mode
(`PORTAL_ENV=production`) every secret and outside-system address must be set
explicitly; start-up stops with a message naming each missing or invalid one.

Each section is a frozen dataclass built by one `_section(reader)` function; the
environment variable names are the contract with operators (docs/operations.md)
and do not change when a field moves.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENVIRONMENTS = ("demo", "test", "production")

# Demo-only secrets: public on purpose, refused in production.
_DEMO_SECRET_KEY = "demo-only-secret-key-change-me-in-production-0000"
_DEMO_DATA_KEY = base64.urlsafe_b64encode(b"demo-only-data-key-32-bytes-long").decode()

# The demo's simulators, one port each (docs/*-simulator.md).
DEMO_CITY_PORT = 8100
DEMO_IDP_PORT = 8200
DEMO_WORKER_METRICS_PORT = 8300
DEMO_SMS_PORT = 8310
DEMO_VNPAY_PORT = 8320
DEMO_SMTP_PORT = 8025

DEMO_MAIL_FROM = "Cổng Dịch vụ công Hà Nội <thongbao@dichvucong.demo.vn>"

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    # The schema owner's URL (migrations); the app role's URL is `url` (row-level security applies to it).
    migration_url: str
    app_role: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True)
class BrokerSettings:
    url: str
    # Prepended to every queue and exchange name, so deployments (or test runs) can share one broker.
    queue_prefix: str = ""
    # kombu's filesystem transport keeps its messages here (the demo broker).
    folder: Path = Path("var/broker")


@dataclass(frozen=True)
class KeySettings:
    # Signs cookies, CSRF tokens and rating links.
    secret_key: str = field(repr=False)
    # 32 bytes; seals citizens' identity numbers and stored files (portal.core.crypto).
    data_key: bytes = field(repr=False)


@dataclass(frozen=True)
class WebSettings:
    # Every absolute link (invitations, rating links, receipts, QR codes, emails) starts with this.
    public_url: str
    # Refused at the edge before parsing (portal/security/input_guard.py).
    max_body_bytes: int = 256 * 1024  # any body but multipart (JSON, forms, raw callbacks)
    max_multipart_bytes: int = 10 * 1024 * 1024  # multipart bodies, files included
    max_json_depth: int = 32  # arrays and objects nested in one another


@dataclass(frozen=True)
class CitySettings:
    """The city's one-stop system (docs/city-api.md)."""

    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    # Where the city sends status reports: our public URL's callback route.
    callback_url: str
    timeout_seconds: float = 10.0
    # A forwarded dossier with no "received" (status 2) after this long is flagged: the office never got it.
    ack_timeout_minutes: int = 240
    # A silent dossier is asked about again after the silence, then after twice as long each time
    # the city had nothing new, never less often than this (agents/dossiers/city_status.py).
    poll_max_interval_seconds: int = 21600


@dataclass(frozen=True)
class ForwardingSettings:
    """How filed dossiers reach the city (agents/dossiers/tasks.py)."""

    max_retries: int = 8
    retry_base_seconds: float = 2.0
    # A dossier still unforwarded after this long is re-enqueued by the sweep.
    stuck_after_seconds: int = 120
    sweep_interval_seconds: float = 30.0
    # Attempts in all (task retries and sweeps) before a dossier the city keeps failing to take is
    # marked forward_failed for the center to send again, instead of being retried for ever.
    give_up_after_attempts: int = 30
    # How long a worker holds an outbox row it is sending (a notification, an operation owed to the
    # city) before the sweepers take it back from a worker that died holding it.
    lease_seconds: float = 300.0


@dataclass(frozen=True)
class SignInSettings:
    max_failures: int = 5
    lockout_seconds: int = 900
    # Failed sign-ins from one source (any accounts) within lockout_seconds before it is refused.
    max_failures_per_source: int = 50
    # A correct password from a device the person signed in on lately passes a lock (docs/security.md).
    trusted_device_days: int = 30


@dataclass(frozen=True)
class SessionSettings:
    # A sign-in session ends after this long without a request, and this long after sign-in whatever happens.
    idle_timeout_seconds: int = 30 * 60
    absolute_lifetime_seconds: int = 8 * 3600


@dataclass(frozen=True)
class RateLimitSettings:
    """Requests allowed per window (portal/security/rate_limits.py), shared by every process through the database."""

    window_seconds: int = 60
    track_per_source: int = 30
    track_per_target: int = 10
    login_per_source: int = 30
    login_per_target: int = 10
    token_per_source: int = 60
    token_per_target: int = 20
    # The same refusal repeated within this long is counted, not written again (portal/core/audit.py).
    refusal_tally_seconds: int = 3600


@dataclass(frozen=True)
class ApiClientSettings:
    # Lifetime of the bearer tokens partner systems get from /api/oauth/token.
    token_ttl_seconds: int = 900


@dataclass(frozen=True)
class ScannerSettings:
    """clamd, which checks every upload (docs/documents.md). A Unix socket, or host and port."""

    socket_path: Path | None = None
    host: str | None = None
    port: int | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class StorageSettings:
    # Uploaded files, sealed with the data key, named by content hash (portal/core/blob_store.py).
    blob_root: Path = Path("var/blobs")


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class SmsSettings:
    """The brand-name SMS gateway (docs/sms-simulator.md)."""

    api_url: str
    api_key: str = field(repr=False)
    brand: str
    # Verifies the gateway's delivery reports.
    webhook_secret: str = field(repr=False)
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class VnpaySettings:
    """This deployment's VNPay merchant terminal (docs/vnpay-simulator.md). The secret never leaves the server."""

    tmn_code: str
    hash_secret: str = field(repr=False)
    payment_url: str
    api_url: str
    timeout_seconds: float = 15.0
    # How long a payment page stays open (vnp_ExpireDate); VNPay's samples use 15 minutes.
    payment_minutes: int = 15
    # Reconciliation asks VNPay (querydr) about payments still pending this long after they started.
    reconcile_after_seconds: int = 300
    reconcile_interval_seconds: int = 120
    # Where the daily settlement comparison reads the gateway's transactions of a day (the simulator's
    # ledger in demo and tests; empty: no comparison, as VNPay publishes no such API).
    ledger_url: str = ""


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
class CounterSettings:
    """The counter's working screen (agents/dossiers/drafts.py, templates/static/draft.js)."""

    # What was typed is saved this long after the last keystroke.
    autosave_delay_ms: int = 800
    # While the draft is open and visible, the page says so this often (the counter timer).
    heartbeat_seconds: int = 30
    # A longer silence means the draft sat unopened: that time is not counter time.
    idle_gap_seconds: int = 120
    # The city's standard for filing one dossier at the counter.
    standard_minutes: int = 15
    # One uploaded document file; below the web's multipart cap and clamd's StreamMaxLength.
    document_max_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class MapSettings:
    """The public maps (locator, coverage): Leaflet served by the portal.

    With no tile URL (the demo, the tests) a map draws only the wards' schematic and the points,
    labelled as a diagram; a production may name a tile server it is licensed to use.
    """

    tile_url: str = ""  # e.g. https://tiles.example.vn/{z}/{x}/{y}.png
    tile_attribution: str = ""

    @property
    def tile_origin(self) -> str:
        """scheme://host[:port] of the tile server (for the pages' Content-Security-Policy)."""
        match = re.match(r"^(https?://[^/]+)", self.tile_url)
        return match.group(1) if match else ""


@dataclass(frozen=True)
class ReportingSettings:
    """Dashboard exports (agents/reporting/export_jobs.py)."""

    # An export of at most this many rows is answered at once; a larger one is built by a worker
    # (`reporting.export`) while its page shows the progress, then downloaded.
    export_inline_rows: int = 20_000
    # The most rows one export may hold: one XLSX sheet holds 1,048,576 rows, the header included.
    export_max_rows: int = 1_048_575
    # Where finished exports wait to be downloaded (a volume shared by web and workers).
    export_dir: Path = Path("var/exports")


@dataclass(frozen=True)
class AdminSettings:
    """The back office at /admin (piccolo-admin, docs/decisions/0027-back-office-piccolo-admin.md)."""

    enabled: bool = True
    # piccolo's own connection: the same SQLite file, or on PostgreSQL its own login role (a member of
    # `portal_back_office`: SELECT on what it shows, RLS applies), as an asyncpg DSN (postgresql://...).
    database_url: str = ""
    # The login role portal migrate/demo creates when it is missing and makes a member of portal_back_office.
    role: str = "portal_admin"


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database: DatabaseSettings
    broker: BrokerSettings
    keys: KeySettings
    web: WebSettings
    city: CitySettings
    forwarding: ForwardingSettings = field(default_factory=ForwardingSettings)
    sign_in: SignInSettings = field(default_factory=SignInSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    api_clients: ApiClientSettings = field(default_factory=ApiClientSettings)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    mail: MailSettings = field(default_factory=lambda: MailSettings("127.0.0.1", DEMO_SMTP_PORT, DEMO_MAIL_FROM))
    sms: SmsSettings = field(
        default_factory=lambda: SmsSettings(
            f"http://127.0.0.1:{DEMO_SMS_PORT}", "portal-demo-key", "DVC-HANOI", "sms-webhook-demo-secret"
        )
    )
    vnpay: VnpaySettings = field(
        default_factory=lambda: VnpaySettings(
            "PORTALHN",
            "DEMOSECRETPORTALHN0123456789ABCD",
            f"http://127.0.0.1:{DEMO_VNPAY_PORT}/paymentv2/vpcpay.html",
            f"http://127.0.0.1:{DEMO_VNPAY_PORT}/merchant_webapi/api/transaction",
        )
    )
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    counter: CounterSettings = field(default_factory=CounterSettings)
    map: MapSettings = field(default_factory=MapSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    reporting: ReportingSettings = field(default_factory=ReportingSettings)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


class _Reader:
    """Reads one environment, collecting every problem so start-up names them all at once."""

    def __init__(self, env: dict[str, str], production: bool) -> None:
        self.env = env
        self.production = production
        self.errors: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        return self.env.get(name) or default

    def required(self, name: str, demo_default: str) -> str:
        value = self.env.get(name, "")
        if value:
            return value
        if self.production:
            self.errors.append(f"{name} is required in production")
        return demo_default

    def whole(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        raw = self.env.get(name)
        value = default
        if raw is not None and raw != "":
            try:
                value = int(raw)
            except ValueError:
                self.errors.append(f"{name} must be a whole number, got {raw!r}")
                return default
        self._bounded(name, value, low, high)
        return value

    def number(self, name: str, default: float, *, low: float | None = None) -> float:
        raw = self.env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            self.errors.append(f"{name} must be a number, got {raw!r}")
            return default
        self._bounded(name, value, low, None)
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = (self.env.get(name) or "").strip().lower()
        if raw == "":
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        self.errors.append(f"{name} must be true or false, got {raw!r}")
        return default

    def url(self, name: str, demo_default: str) -> str:
        value = self.required(name, demo_default)
        if not re.match(r"^https?://[^/\s]+", value):
            self.errors.append(f"{name} must be an absolute http(s) URL, got {value!r}")
        elif self.production and value.startswith("http://") and name != "SMTP_HOST":
            self.errors.append(f"{name} must be an https:// URL in production")
        return value.rstrip("/")

    def _bounded(self, name: str, value: float, low: float | None, high: float | None) -> None:
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.errors.append(f"{name} must be {span}, got {value}")


def _postgres_driver(url: str) -> str:
    # One driver everywhere: psycopg 3.
    return "postgresql+psycopg://" + url[len("postgresql://") :] if url.startswith("postgresql://") else url


def _database(r: _Reader, var_dir: Path) -> DatabaseSettings:
    url = _postgres_driver(r.required("DATABASE_URL", f"sqlite:///{var_dir / 'portal.db'}"))
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg")):
        r.errors.append("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    migration_url = _postgres_driver(r.text("DATABASE_MIGRATION_URL", url))
    return DatabaseSettings(url=url, migration_url=migration_url, app_role=r.text("DATABASE_APP_ROLE") or None)


def _admin(r: _Reader, database: DatabaseSettings) -> AdminSettings:
    enabled = r.flag("ADMIN_ENABLED", True)
    given = r.text("ADMIN_DATABASE_URL")
    if database.is_sqlite:
        if given and not given.startswith("sqlite"):
            r.errors.append("ADMIN_DATABASE_URL must name the same SQLite file as DATABASE_URL (or be unset)")
        return AdminSettings(enabled=enabled, database_url=database.url)
    url = given.replace("postgresql+psycopg://", "postgresql://", 1)
    if not url:
        # Unset: the app's own server and database, as the admin's own role (no password: local trust, or
        # set ADMIN_DATABASE_URL with one).
        parts = urlsplit(database.url.replace("postgresql+psycopg://", "postgresql://", 1))
        host = parts.hostname or ""
        netloc = f"{r.text('ADMIN_DATABASE_ROLE', 'portal_admin')}@{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    elif not url.startswith("postgresql://"):
        r.errors.append("ADMIN_DATABASE_URL must be a postgresql:// URL when DATABASE_URL is one")
    role = urlsplit(url).username or "portal_admin"
    return AdminSettings(enabled=enabled, database_url=url, role=role)


def _broker(r: _Reader, var_dir: Path) -> BrokerSettings:
    url = r.required("CELERY_BROKER_URL", "filesystem://")
    if r.production and url.startswith("filesystem"):
        r.errors.append(
            "CELERY_BROKER_URL must name Redis or RabbitMQ in production (filesystem:// is the demo broker)"
        )
    prefix = r.text("CELERY_QUEUE_PREFIX")
    if not re.fullmatch(r"[A-Za-z0-9._-]*", prefix):
        r.errors.append(f"CELERY_QUEUE_PREFIX may hold only letters, digits, '.', '_' and '-', got {prefix!r}")
    return BrokerSettings(url=url, queue_prefix=prefix, folder=var_dir / "broker")


def _keys(r: _Reader) -> KeySettings:
    secret_key = r.required("PORTAL_SECRET_KEY", _DEMO_SECRET_KEY)
    if r.production and (secret_key == _DEMO_SECRET_KEY or len(secret_key) < 32):
        r.errors.append("PORTAL_SECRET_KEY must be at least 32 characters and not the demo key")
    raw = r.required("PORTAL_DATA_KEY", _DEMO_DATA_KEY)
    data_key = b""
    try:
        data_key = base64.urlsafe_b64decode(raw.encode())
        if len(data_key) != 32:
            raise ValueError
    except (ValueError, TypeError):
        r.errors.append("PORTAL_DATA_KEY must be 32 bytes, url-safe base64 encoded")
    if r.production and raw == _DEMO_DATA_KEY:
        r.errors.append("PORTAL_DATA_KEY must not be the demo key in production")
    return KeySettings(secret_key=secret_key, data_key=data_key)


def _web(r: _Reader) -> WebSettings:
    return WebSettings(
        public_url=r.url("PORTAL_PUBLIC_URL", "http://127.0.0.1:8000"),
        max_body_bytes=r.whole("PORTAL_MAX_BODY_BYTES", WebSettings.max_body_bytes, low=1),
        max_multipart_bytes=r.whole("PORTAL_MAX_MULTIPART_BYTES", WebSettings.max_multipart_bytes, low=1),
        max_json_depth=r.whole("PORTAL_MAX_JSON_DEPTH", WebSettings.max_json_depth, low=1),
    )


def _city(r: _Reader, public_url: str) -> CitySettings:
    return CitySettings(
        api_url=r.url("CITY_API_URL", f"http://127.0.0.1:{DEMO_CITY_PORT}"),
        client_id=r.required("CITY_CLIENT_ID", "portal-demo"),
        client_secret=r.required("CITY_CLIENT_SECRET", "portal-demo-secret"),
        webhook_secret=r.required("CITY_WEBHOOK_SECRET", "city-webhook-demo-secret"),
        callback_url=f"{public_url}/api/city/callbacks",
        timeout_seconds=r.number("CITY_TIMEOUT_SECONDS", 10.0, low=0.1),
        ack_timeout_minutes=r.whole("CITY_ACK_TIMEOUT_MINUTES", 240, low=1),
        poll_max_interval_seconds=r.whole("CITY_POLL_MAX_INTERVAL_SECONDS", 21600, low=1),
    )


def _forwarding(r: _Reader) -> ForwardingSettings:
    return ForwardingSettings(
        max_retries=r.whole("FORWARD_MAX_RETRIES", 8, low=0),
        retry_base_seconds=r.number("FORWARD_RETRY_BASE_SECONDS", 2.0, low=0),
        stuck_after_seconds=r.whole("FORWARD_STUCK_AFTER_SECONDS", 120, low=1),
        sweep_interval_seconds=r.number("FORWARD_SWEEP_INTERVAL_SECONDS", 30.0, low=0.1),
        give_up_after_attempts=r.whole("FORWARD_GIVE_UP_AFTER_ATTEMPTS", 30, low=1),
        lease_seconds=r.number("WORKER_LEASE_SECONDS", 300.0, low=1),
    )


def _sign_in(r: _Reader) -> SignInSettings:
    return SignInSettings(
        max_failures=r.whole("LOGIN_MAX_FAILURES", 5, low=1),
        lockout_seconds=r.whole("LOGIN_LOCKOUT_SECONDS", 900, low=1),
        max_failures_per_source=r.whole("LOGIN_MAX_FAILURES_PER_SOURCE", 50, low=1),
        trusted_device_days=r.whole("LOGIN_TRUSTED_DEVICE_DAYS", 30, low=0, high=365),
    )


def _session(r: _Reader) -> SessionSettings:
    idle = r.whole("SESSION_IDLE_TIMEOUT_SECONDS", SessionSettings.idle_timeout_seconds, low=60)
    lifetime = r.whole("SESSION_ABSOLUTE_LIFETIME_SECONDS", SessionSettings.absolute_lifetime_seconds, low=60)
    if lifetime < idle:
        r.errors.append("SESSION_ABSOLUTE_LIFETIME_SECONDS must not be shorter than SESSION_IDLE_TIMEOUT_SECONDS")
    return SessionSettings(idle_timeout_seconds=idle, absolute_lifetime_seconds=lifetime)


def _rate_limits(r: _Reader) -> RateLimitSettings:
    d = RateLimitSettings
    return RateLimitSettings(
        window_seconds=r.whole("RATE_LIMIT_WINDOW_SECONDS", d.window_seconds, low=1),
        track_per_source=r.whole("RATE_LIMIT_TRACK_PER_SOURCE", d.track_per_source, low=1),
        track_per_target=r.whole("RATE_LIMIT_TRACK_PER_TARGET", d.track_per_target, low=1),
        login_per_source=r.whole("RATE_LIMIT_LOGIN_PER_SOURCE", d.login_per_source, low=1),
        login_per_target=r.whole("RATE_LIMIT_LOGIN_PER_TARGET", d.login_per_target, low=1),
        token_per_source=r.whole("RATE_LIMIT_TOKEN_PER_SOURCE", d.token_per_source, low=1),
        token_per_target=r.whole("RATE_LIMIT_TOKEN_PER_TARGET", d.token_per_target, low=1),
        refusal_tally_seconds=r.whole("AUDIT_REFUSAL_TALLY_SECONDS", d.refusal_tally_seconds, low=1),
    )


def _api_clients(r: _Reader) -> ApiClientSettings:
    return ApiClientSettings(token_ttl_seconds=r.whole("API_TOKEN_TTL_SECONDS", 900, low=1, high=86400))


def _scanner(r: _Reader, var_dir: Path) -> ScannerSettings:
    host = r.text("CLAMD_HOST") or None
    timeout = r.number("CLAMD_TIMEOUT_SECONDS", 30.0, low=0.1)
    if host is not None:
        return ScannerSettings(host=host, port=r.whole("CLAMD_PORT", 3310, low=1, high=65535), timeout_seconds=timeout)
    # Without a host: the clamd that portal/scanner_daemon.py runs in the var folder, or CLAMD_SOCKET.
    socket = Path(r.text("CLAMD_SOCKET") or var_dir / "clamd.sock")
    return ScannerSettings(socket_path=socket, timeout_seconds=timeout)


def _storage(r: _Reader, var_dir: Path) -> StorageSettings:
    return StorageSettings(blob_root=Path(r.text("PORTAL_BLOB_DIR") or var_dir / "blobs").resolve())


def _mail(r: _Reader) -> MailSettings:
    username, password = r.text("SMTP_USERNAME") or None, r.text("SMTP_PASSWORD") or None
    if bool(username) != bool(password):
        r.errors.append("SMTP_USERNAME and SMTP_PASSWORD go together")
    return MailSettings(
        host=r.required("SMTP_HOST", "127.0.0.1"),
        port=r.whole("SMTP_PORT", DEMO_SMTP_PORT, low=1, high=65535),
        sender=r.required("SMTP_FROM", DEMO_MAIL_FROM),
        username=username,
        password=password,
        starttls=r.flag("SMTP_STARTTLS", r.production),
        timeout_seconds=r.number("SMTP_TIMEOUT_SECONDS", 10.0, low=0.1),
    )


def _sms(r: _Reader) -> SmsSettings:
    return SmsSettings(
        api_url=r.url("SMS_API_URL", f"http://127.0.0.1:{DEMO_SMS_PORT}"),
        api_key=r.required("SMS_API_KEY", "portal-demo-key"),
        brand=r.required("SMS_BRAND", "DVC-HANOI"),
        webhook_secret=r.required("SMS_WEBHOOK_SECRET", "sms-webhook-demo-secret"),
        timeout_seconds=r.number("SMS_TIMEOUT_SECONDS", 10.0, low=0.1),
    )


def _vnpay(r: _Reader) -> VnpaySettings:
    tmn_code = r.required("VNPAY_TMN_CODE", "PORTALHN")
    if not re.fullmatch(r"[A-Za-z0-9]{8}", tmn_code):
        r.errors.append("VNPAY_TMN_CODE must be 8 letters or digits")
    return VnpaySettings(
        tmn_code=tmn_code,
        hash_secret=r.required("VNPAY_HASH_SECRET", "DEMOSECRETPORTALHN0123456789ABCD"),
        payment_url=r.url("VNPAY_PAYMENT_URL", f"http://127.0.0.1:{DEMO_VNPAY_PORT}/paymentv2/vpcpay.html"),
        api_url=r.url("VNPAY_API_URL", f"http://127.0.0.1:{DEMO_VNPAY_PORT}/merchant_webapi/api/transaction"),
        timeout_seconds=r.number("VNPAY_TIMEOUT_SECONDS", 15.0, low=0.1),
        payment_minutes=r.whole("VNPAY_PAYMENT_MINUTES", 15, low=1, high=24 * 60),
        reconcile_after_seconds=r.whole("VNPAY_RECONCILE_AFTER_SECONDS", 300, low=0),
        reconcile_interval_seconds=r.whole("VNPAY_RECONCILE_INTERVAL_SECONDS", 120, low=1),
        ledger_url=r.text(
            "VNPAY_LEDGER_URL", "" if r.production else f"http://127.0.0.1:{DEMO_VNPAY_PORT}/_sim/transactions"
        ),
    )


def _observability(r: _Reader) -> ObservabilitySettings:
    log_format = r.text("LOG_FORMAT", "json" if r.production else "text").lower()
    if log_format not in LOG_FORMATS:
        r.errors.append(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    log_level = r.text("LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        r.errors.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    token = r.text("METRICS_TOKEN") or None
    if token is not None and len(token) < 16:
        r.errors.append("METRICS_TOKEN must be at least 16 characters")
    port = r.whole("WORKER_METRICS_PORT", 0)
    if not 0 <= port <= 65535:
        r.errors.append("WORKER_METRICS_PORT must be a TCP port (1-65535), or 0/empty for none")
    return ObservabilitySettings(
        log_format=log_format,
        log_level=log_level,
        metrics_token=token,
        worker_metrics_port=port or None,
        worker_metrics_host=r.text("WORKER_METRICS_HOST", "127.0.0.1"),
    )


def _counter(r: _Reader, web: WebSettings) -> CounterSettings:
    heartbeat = r.whole("COUNTER_HEARTBEAT_SECONDS", 30, low=5, high=600)
    idle_gap = r.whole("COUNTER_IDLE_GAP_SECONDS", 120, low=10, high=3600)
    if idle_gap <= heartbeat:
        r.errors.append("COUNTER_IDLE_GAP_SECONDS must be longer than COUNTER_HEARTBEAT_SECONDS")
    return CounterSettings(
        autosave_delay_ms=r.whole("COUNTER_AUTOSAVE_DELAY_MS", 800, low=100, high=10000),
        heartbeat_seconds=heartbeat,
        idle_gap_seconds=idle_gap,
        standard_minutes=r.whole("COUNTER_STANDARD_MINUTES", 15, low=1, high=240),
        document_max_bytes=r.whole(
            "DOCUMENT_MAX_BYTES",
            min(8 * 1024 * 1024, web.max_multipart_bytes - 64 * 1024),
            low=1024,
            high=web.max_multipart_bytes - 1024,  # room for the form around the file
        ),
    )


def _map(r: _Reader) -> MapSettings:
    tile_url = r.text("MAP_TILE_URL").strip()
    if tile_url:
        if not re.match(r"^https?://[^/\s]+/\S*$", tile_url) or not all(
            part in tile_url for part in ("{z}", "{x}", "{y}")
        ):
            r.errors.append(
                f"MAP_TILE_URL must be an http(s) URL template with {{z}}, {{x}} and {{y}}, got {tile_url!r}"
            )
        elif r.production and tile_url.startswith("http://"):
            r.errors.append("MAP_TILE_URL must be an https:// URL in production")
    return MapSettings(tile_url=tile_url, tile_attribution=r.text("MAP_TILE_ATTRIBUTION").strip())


def _reporting(r: _Reader, var_dir: Path) -> ReportingSettings:
    max_rows = r.whole("REPORTING_EXPORT_MAX_ROWS", 1_048_575, low=1, high=1_048_575)
    return ReportingSettings(
        export_inline_rows=min(r.whole("REPORTING_EXPORT_INLINE_ROWS", 20_000, low=0), max_rows),
        export_max_rows=max_rows,
        export_dir=Path(r.text("REPORTING_EXPORT_DIR") or var_dir / "exports").resolve(),
    )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping; raise SettingsError naming every problem."""
    env = dict(os.environ if environ is None else environ)
    mode = env.get("PORTAL_ENV", "demo")
    if mode not in ENVIRONMENTS:
        raise SettingsError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")
    r = _Reader(env, production=mode == "production")
    var_dir = Path(env.get("PORTAL_VAR_DIR") or Path.cwd() / "var").resolve()
    web = _web(r)
    database = _database(r, var_dir)
    settings = Settings(
        env=mode,
        var_dir=var_dir,
        database=database,
        broker=_broker(r, var_dir),
        keys=_keys(r),
        web=web,
        city=_city(r, web.public_url),
        forwarding=_forwarding(r),
        sign_in=_sign_in(r),
        session=_session(r),
        rate_limits=_rate_limits(r),
        api_clients=_api_clients(r),
        scanner=_scanner(r, var_dir),
        storage=_storage(r, var_dir),
        mail=_mail(r),
        sms=_sms(r),
        vnpay=_vnpay(r),
        observability=_observability(r),
        counter=_counter(r, web),
        map=_map(r),
        admin=_admin(r, database),
        reporting=_reporting(r, var_dir),
    )
    if r.errors:
        raise SettingsError("Invalid settings:\n  - " + "\n  - ".join(r.errors))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The one settings object of this process."""
    return load_settings()
