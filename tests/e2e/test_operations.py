"""What an operator sees of a filing: one request id in every process's logs and at the city; metrics from each."""

import contextlib
import json
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import open_filing
from tests.factories import (
    BIRTH_FORM,
    PASSWORD,
    citizen,
    create_partner,
    create_point,
    create_staff,
    ensure_procedures,
    reload_dossier,
)

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def counter():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Bưu điện Vận hành")
    return partner, point, create_staff(point, partner)


def _file_with_request_id(stack, staff, request_id: str):  # type: ignore[no-untyped-def]
    client = stack.browser_client()
    stack.sign_in(client, staff.email, PASSWORD)
    data = {
        **open_filing(client, "/dossiers/new/1.001193"),
        **citizen(),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
        "_csrf_token": client.cookies["csrftoken"],
    }
    response = client.post("/dossiers/new/1.001193", data=data, headers={"X-Request-ID": request_id})
    assert response.status_code == 303, response.text
    assert response.headers["x-request-id"] == request_id
    return uuid.UUID(response.headers["location"].split("/")[2])


def _log_lines(path) -> list[dict]:  # type: ignore[no-untyped-def]
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.startswith("{"):
            with contextlib.suppress(ValueError):  # the last line may still be being written
                lines.append(json.loads(raw))
    return lines


def _forwarded(stack, dossier_id: uuid.UUID):  # type: ignore[no-untyped-def]
    def accepted():  # type: ignore[no-untyped-def]
        dossier = reload_dossier(dossier_id)
        return dossier if dossier.city_dossier_code else None

    return stack.wait_for(accepted, what="the city to accept the dossier")


def test_a_filings_request_id_follows_the_dossier_through_the_worker_to_the_city(stack, counter):
    partner, _point, staff = counter
    request_id = f"e2e-{uuid.uuid4().hex[:16]}"
    dossier_id = _file_with_request_id(stack, staff, request_id)
    dossier = _forwarded(stack, dossier_id)

    at_the_city = stack.city.get(f"/_sim/dossiers/{dossier.city_dossier_code}").json()
    assert at_the_city["request_id"] == request_id

    web = [line for line in _log_lines(stack.logs / "web.log") if line.get("request_id") == request_id]
    filed = [line for line in web if line["logger"] == "agents.dossiers.filing"]
    assert filed and filed[0]["dossier_id"] == str(dossier_id) and filed[0]["partner_id"] == str(partner.id)
    assert filed[0]["tracking_code"] == dossier.tracking_code and filed[0]["service"] == "web"
    assert any(line["logger"] == "portal.access" and line["route"] == "/dossiers/new/{code}" for line in web)

    def worker_lines():  # type: ignore[no-untyped-def]
        mine = [line for line in _log_lines(stack.logs / "worker.log") if line.get("request_id") == request_id]
        done = [line for line in mine if line["logger"] == "celery.app.trace" and "succeeded" in line["message"]]
        return mine if done else None

    worker = stack.wait_for(worker_lines, what="the worker's log lines of the forwarding task")
    forwarding = [line for line in worker if line.get("task_name") == "dossiers.forward"]
    assert forwarding and all(line["service"] == "worker" for line in worker)
    assert {line["dossier_id"] for line in forwarding} == {str(dossier_id)}
    assert {line["partner_id"] for line in forwarding} == {str(partner.id)}
    assert len({line["task_id"] for line in forwarding}) == 1
    outbound = [line for line in forwarding if line["logger"] == "portal.http.outbound"]
    assert any("/api/v1/dossiers" in line["message"] and line["status"] == 201 for line in outbound)


def _scrape(url: str) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_the_worker_and_the_web_export_metrics_that_add_up_their_processes(stack, counter):
    _partner, _point, staff = counter
    forward = {"task": "dossiers.forward", "outcome": "success"}
    worker_before = stack.wait_for(lambda: _scrape(stack.worker_metrics_url), what="the worker's metrics exporter")
    _forwarded(stack, _file_with_request_id(stack, staff, f"e2e-{uuid.uuid4().hex[:16]}"))

    def counted():  # type: ignore[no-untyped-def]
        samples = _scrape(stack.worker_metrics_url)  # counted in a prefork child, exported by the parent
        return (
            samples
            if _value(samples, "portal_tasks_total", **forward) > _value(worker_before, "portal_tasks_total", **forward)
            else None
        )

    worker = stack.wait_for(counted, what="the forwarding task in the worker's metrics")
    lag = "portal_dossier_forwarding_lag_seconds_count"
    assert _value(worker, lag) >= _value(worker_before, lag) + 1
    assert _value(worker, "portal_task_results_total", task="dossiers.forward", result="forwarded") >= 1

    web = _scrape(f"{stack.web_url}/metrics")
    filing = {"method": "POST", "route": "/dossiers/new/{code}", "status": "303"}
    assert _value(web, "portal_http_request_duration_seconds_count", **filing) >= 1
    assert _value(web, "portal_broker_up") == 1
    assert ("portal_queue_depth", frozenset({"queue": "city"}.items())) in web
