"""Settings: one section per concern, safe demo defaults, and production refuses to start without its secrets."""

from pathlib import Path

import pytest

from portal.core.settings import SettingsError, load_settings
from tests.production_env import PRODUCTION_ENV


def test_demo_starts_with_no_environment_at_all():
    settings = load_settings({})
    assert settings.env == "demo"
    assert settings.database.url.startswith("sqlite:///")
    assert settings.database.is_sqlite
    assert settings.broker.url == "filesystem://"
    assert settings.broker.folder == settings.var_dir / "broker"


def test_the_demo_points_every_outside_system_at_its_own_simulator_port():
    settings = load_settings({})
    ports = {
        "city": settings.city.api_url,
        "sms": settings.sms.api_url,
        "vnpay": settings.vnpay.payment_url,
        "smtp": f"smtp://{settings.mail.host}:{settings.mail.port}",
        "worker metrics": "http://127.0.0.1:8300",
    }
    numbers = [url.split(":")[2].split("/")[0] for url in ports.values()]
    assert len(set(numbers)) == len(numbers), ports


def test_each_section_reads_its_own_variables():
    settings = load_settings(
        {
            "PORTAL_PUBLIC_URL": "https://portal.example.vn/",
            "CITY_TIMEOUT_SECONDS": "3.5",
            "FORWARD_MAX_RETRIES": "2",
            "LOGIN_LOCKOUT_SECONDS": "600",
            "API_TOKEN_TTL_SECONDS": "300",
            "CLAMD_HOST": "scanner",
            "CLAMD_PORT": "3311",
            "PORTAL_BLOB_DIR": "/srv/blobs",
            "SMTP_PORT": "2525",
            "SMTP_STARTTLS": "yes",
            "SMS_BRAND": "DVC-HN",
            "VNPAY_TMN_CODE": "XYZ98765",
            "PORTAL_MAX_JSON_DEPTH": "10",
        }
    )
    assert settings.web.public_url == "https://portal.example.vn"
    assert settings.city.callback_url == "https://portal.example.vn/api/city/callbacks"
    assert settings.city.timeout_seconds == 3.5
    assert settings.forwarding.max_retries == 2
    assert settings.sign_in.lockout_seconds == 600
    assert settings.api_clients.token_ttl_seconds == 300
    assert (settings.scanner.host, settings.scanner.port, settings.scanner.socket_path) == ("scanner", 3311, None)
    assert settings.storage.blob_root == Path("/srv/blobs")
    assert (settings.mail.port, settings.mail.starttls) == (2525, True)
    assert settings.sms.brand == "DVC-HN"
    assert settings.vnpay.tmn_code == "XYZ98765"
    assert settings.web.max_json_depth == 10


def test_without_a_clamd_host_the_scanner_is_the_one_in_the_var_folder(tmp_path):
    settings = load_settings({"PORTAL_VAR_DIR": str(tmp_path)})
    assert settings.scanner.socket_path == tmp_path / "clamd.sock"
    assert settings.storage.blob_root == tmp_path / "blobs"


def test_production_names_every_missing_setting():
    with pytest.raises(SettingsError) as error:
        load_settings({"PORTAL_ENV": "production"})
    message = str(error.value)
    for name in PRODUCTION_ENV.keys() - {"PORTAL_ENV", "CITY_CLIENT_ID"}:
        assert name in message


def test_production_refuses_the_demo_broker_a_short_secret_and_plain_http():
    env = {
        **PRODUCTION_ENV,
        "CELERY_BROKER_URL": "filesystem://",
        "PORTAL_SECRET_KEY": "short",
        "VNPAY_API_URL": "http://pay.example.vn/merchant_webapi/api/transaction",
    }
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    for name in ("CELERY_BROKER_URL", "PORTAL_SECRET_KEY", "VNPAY_API_URL"):
        assert name in str(error.value)


def test_a_complete_production_environment_loads():
    settings = load_settings(PRODUCTION_ENV)
    assert settings.is_production
    assert settings.database.url == "postgresql+psycopg://app@db/portal"
    assert settings.mail.starttls, "production mail goes over STARTTLS unless told otherwise"
    assert settings.vnpay.hash_secret == "vnpay-secret"


def test_printing_the_settings_shows_no_secret():
    """A settings object in a log line or a traceback's locals must not carry the keys (issue #11: the VNPay
    secret never appears in a log)."""
    env = {
        **PRODUCTION_ENV,
        "PORTAL_SECRET_KEY": "portal-secret-key-0034-" + "k" * 20,
        "CITY_CLIENT_SECRET": "city-client-secret-0034",
        "CITY_WEBHOOK_SECRET": "city-webhook-secret-0034",
        "SMS_API_KEY": "sms-api-key-0034",
        "SMS_WEBHOOK_SECRET": "sms-webhook-secret-0034",
        "SMTP_USERNAME": "relay-user",
        "SMTP_PASSWORD": "relay-password-0034",
        "VNPAY_HASH_SECRET": "vnpay-hash-secret-0034",
    }
    settings = load_settings(env)
    printed = repr(settings) + str(settings) + "".join(repr(section) for section in vars(settings).values())
    secrets = [
        settings.keys.secret_key,
        repr(settings.keys.data_key),
        settings.city.client_secret,
        settings.city.webhook_secret,
        settings.sms.api_key,
        settings.sms.webhook_secret,
        settings.mail.password,
        settings.vnpay.hash_secret,
    ]
    assert all(secrets) and [s for s in secrets if s in printed] == []
    assert settings.vnpay.tmn_code in printed  # what is not secret is still shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FORWARD_MAX_RETRIES", "many"),
        ("API_TOKEN_TTL_SECONDS", "0"),
        ("API_TOKEN_TTL_SECONDS", "86401"),
        ("CITY_TIMEOUT_SECONDS", "soon"),
        ("SMTP_STARTTLS", "perhaps"),
        ("CLAMD_PORT", "70000"),
        ("VNPAY_TMN_CODE", "short"),
        ("PORTAL_PUBLIC_URL", "portal.example.vn"),
        ("PORTAL_MAX_BODY_BYTES", "0"),
    ],
)
def test_a_malformed_value_is_named(name, value):
    env = {name: value, "CLAMD_HOST": "scanner"} if name == "CLAMD_PORT" else {name: value}
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


def test_smtp_credentials_go_together():
    with pytest.raises(SettingsError, match="SMTP_USERNAME"):
        load_settings({"SMTP_USERNAME": "portal"})


def test_every_problem_is_named_at_once():
    with pytest.raises(SettingsError) as error:
        load_settings({"FORWARD_MAX_RETRIES": "x", "SMS_TIMEOUT_SECONDS": "y", "LOG_LEVEL": "chatty"})
    for name in ("FORWARD_MAX_RETRIES", "SMS_TIMEOUT_SECONDS", "LOG_LEVEL"):
        assert name in str(error.value)
