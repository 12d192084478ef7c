"""Settings: safe demo defaults; production refuses to start without its secrets."""

import pytest

from portal.core.settings import SettingsError, load_settings


def test_demo_starts_with_no_environment_at_all():
    settings = load_settings({})
    assert settings.env == "demo"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.broker_url == "filesystem://"


def test_production_names_every_missing_setting():
    with pytest.raises(SettingsError) as error:
        load_settings({"PORTAL_ENV": "production"})
    message = str(error.value)
    for name in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "PORTAL_SECRET_KEY",
        "PORTAL_DATA_KEY",
        "CITY_API_URL",
        "CITY_CLIENT_SECRET",
        "CITY_WEBHOOK_SECRET",
    ):
        assert name in message


def test_production_refuses_the_demo_broker_and_a_short_secret():
    env = {
        "PORTAL_ENV": "production",
        "DATABASE_URL": "postgresql://app@db/portal",
        "CELERY_BROKER_URL": "filesystem://",
        "PORTAL_SECRET_KEY": "short",
        "PORTAL_DATA_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "PORTAL_PUBLIC_URL": "https://portal",
        "CITY_API_URL": "https://city",
        "CITY_CLIENT_ID": "x",
        "CITY_CLIENT_SECRET": "y",
        "CITY_WEBHOOK_SECRET": "z",
    }
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    assert "CELERY_BROKER_URL" in str(error.value)
    assert "PORTAL_SECRET_KEY" in str(error.value)


def test_a_complete_production_environment_loads():
    env = {
        "PORTAL_ENV": "production",
        "DATABASE_URL": "postgresql://app@db/portal",
        "CELERY_BROKER_URL": "redis://cache:6379/0",
        "PORTAL_SECRET_KEY": "s" * 40,
        "PORTAL_DATA_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        "PORTAL_PUBLIC_URL": "https://portal",
        "CITY_API_URL": "https://city",
        "CITY_CLIENT_ID": "x",
        "CITY_CLIENT_SECRET": "y",
        "CITY_WEBHOOK_SECRET": "z",
    }
    settings = load_settings(env)
    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://app@db/portal"


def test_a_malformed_number_is_named():
    with pytest.raises(SettingsError, match="FORWARD_MAX_RETRIES"):
        load_settings({"FORWARD_MAX_RETRIES": "many"})


def test_an_api_token_lifetime_must_be_positive():
    with pytest.raises(SettingsError, match="API_TOKEN_TTL_SECONDS"):
        load_settings({"API_TOKEN_TTL_SECONDS": "0"})
