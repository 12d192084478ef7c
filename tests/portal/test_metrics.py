"""/metrics: latency by route template, refused callbacks by reason, queue depth, forwarding lag; behind a token."""

import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.city.callbacks import sign
from agents.city.client import CityClient
from agents.dossiers import tasks as forwarding
from portal.core.settings import get_settings
from tests.factories import create_counter, file_birth_registration, worker_scope

TOKEN = "metrics-token-for-tests-0123"


def _samples(client) -> dict[tuple[str, frozenset], float]:  # type: ignore[no-untyped-def]
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def counter():
    return create_counter()


@pytest.fixture
def metrics_token(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield TOKEN
    monkeypatch.delenv("METRICS_TOKEN")
    get_settings.cache_clear()


def test_request_latency_is_measured_by_route_template_not_by_each_dossiers_address(portal, counter):
    _partner, point, staff = counter
    first, second = file_birth_registration(staff, point), file_birth_registration(staff, point)
    client = portal()
    client.sign_in(staff.email)
    route = "/dossiers/{dossier_id}"
    before = _value(
        _samples(client.http), "portal_http_request_duration_seconds_count", method="GET", route=route, status="200"
    )
    for dossier in (first, second):
        assert client.get(f"/dossiers/{dossier.id}").status_code == 200
    assert client.get(f"/dossiers/{uuid.uuid4()}").status_code == 404

    response = client.get("/metrics")
    samples = _samples(client.http)
    labels = {"method": "GET", "route": route}
    assert _value(samples, "portal_http_request_duration_seconds_count", **labels, status="200") == before + 2
    assert _value(samples, "portal_http_request_duration_seconds_count", **labels, status="404") >= 1
    assert _value(samples, "portal_http_request_duration_seconds_bucket", **labels, status="200", le="+Inf") >= 2
    assert str(first.id) not in response.text and str(second.id) not in response.text


def _callback(client, body: bytes, *, secret: str | None = None):  # type: ignore[no-untyped-def]
    timestamp = str(int(time.time()))
    signature = sign(secret or get_settings().city.webhook_secret, timestamp, body)
    return client.post(
        "/api/city/callbacks",
        content=body,
        headers={"X-City-Timestamp": timestamp, "X-City-Signature": signature, "Content-Type": "application/json"},
    )


def test_refused_city_callbacks_are_counted_by_reason(portal):
    client = portal().http
    before = _samples(client)
    event = {
        "event_id": uuid.uuid4().hex,
        "seq": 1,
        "TrangThaiHoSo": 2,
        "ThoiGian": datetime.now(UTC).isoformat(),
        "MaHoSo": "KHONG-CO-HO-SO-NAY",
    }
    assert _callback(client, json.dumps(event).encode(), secret="not-the-shared-secret").status_code == 401
    assert _callback(client, b'{"event_id": ').status_code == 400
    assert _callback(client, json.dumps(event).encode()).status_code == 404

    after = _samples(client)
    for reason in ("bad_signature", "malformed", "unknown_dossier"):
        name = "portal_city_callbacks_refused_total"
        assert _value(after, name, reason=reason) == _value(before, name, reason=reason) + 1, reason


def test_queue_depth_shows_the_dossier_waiting_for_a_worker(portal, counter):
    _, point, staff = counter
    client = portal().http
    before = _samples(client)
    assert _value(before, "portal_broker_up") == 1
    file_birth_registration(staff, point)  # nothing consumes this test process's broker folder
    after = _samples(client)
    assert _value(after, "portal_queue_depth", queue="city") == _value(before, "portal_queue_depth", queue="city") + 1
    assert ("portal_queue_depth", frozenset({"queue": "periodic"}.items())) in after


def test_forwarding_lag_is_observed_when_the_city_accepts_a_dossier(portal, counter, city_simulator):
    partner, point, staff = counter
    city_simulator.reset_knobs()
    client = portal().http
    before = _value(_samples(client), "portal_dossier_forwarding_lag_seconds_count")
    dossier = file_birth_registration(staff, point)
    city = CityClient()
    try:
        assert forwarding.forward_dossier(dossier.id, worker_scope(partner), city).kind == "forwarded"
        assert (
            forwarding.forward_dossier(dossier.id, worker_scope(partner), city).kind == "already_done"
        )  # counted once
    finally:
        city.close()
    samples = _samples(client)
    assert _value(samples, "portal_dossier_forwarding_lag_seconds_count") == before + 1
    assert _value(samples, "portal_dossier_forwarding_lag_seconds_bucket", le="86400.0") == before + 1


def test_with_a_metrics_token_a_scrape_needs_it(portal, metrics_token):
    client = portal().http
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert "portal_" not in refused.text
    assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token-0123456"}).status_code == 401
    granted = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert granted.status_code == 200 and "portal_http_request_duration_seconds" in granted.text


def test_production_without_a_metrics_token_refuses_every_scrape(settings):
    import dataclasses

    from portal.core.metrics import scrape_refusal

    production = dataclasses.replace(settings, env="production")
    assert scrape_refusal(production, None)[0] == 403
    assert scrape_refusal(production, "Bearer anything-at-all-0123")[0] == 403
    assert scrape_refusal(settings, None) is None  # demo and test machines scrape freely
