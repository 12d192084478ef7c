"""Specification of the brand-name SMS gateway simulator (docs/sms-simulator.md).

The simulator runs in uvicorn on a free local port and is spoken to over real
HTTP; a second tiny server receives its delivery reports, whose signatures are
checked here from the contract alone (no portal code).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulators.sms.app import create_app
from simulators.sms.config import Account, SmsSimConfig
from tests.receivers import CallbackReceiver, wait_until
from tests.servers import bound_socket, serve_in_thread

KEY = "test-key"
SECRET = "test-report-secret"
OTHER_KEY = "other-key"
OTHER_SECRET = "other-report-secret"
BRAND = "DVC-HANOI"
VIETNAMESE = "Hồ sơ HN-ABCD-EFGH đã được tiếp nhận"


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[CallbackReceiver, str]]:
    app = CallbackReceiver()
    with serve_in_thread(lambda _: app) as (url, _):
        yield app, url + "/sms/reports"


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    config = SmsSimConfig(
        accounts=(
            Account("portal-test", KEY, (BRAND, "UBND-HN"), SECRET),
            Account("other", OTHER_KEY, ("OTHER",), OTHER_SECRET),
        ),
        delivery_delay_seconds=0,
        report_retry_base=0.05,
        report_max_attempts=4,
        seed=20261202,
    )
    with serve_in_thread(lambda _: create_app(config)) as (url, _):
        yield url


@pytest.fixture
def gateway(gateway_url: str, receiver: tuple[CallbackReceiver, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        receiver[0].reset()
        yield client


@pytest.fixture
def reports(receiver: tuple[CallbackReceiver, str]) -> CallbackReceiver:
    return receiver[0]


@pytest.fixture
def callback_url(receiver: tuple[CallbackReceiver, str]) -> str:
    return receiver[1]


def send(gateway: httpx.Client, key: str = KEY, **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"Brandname": BRAND, "Phone": "0912345678", "Content": VIETNAMESE}
    body.update(fields)
    return gateway.post(
        "/api/v1/sms", json={k: v for k, v in body.items() if v is not None}, headers={"X-Api-Key": key}
    )


def send_ok(gateway: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = send(gateway, **fields)
    assert response.status_code == 200, response.text
    return response.json()


def configure(gateway: httpx.Client, **knobs: Any) -> None:
    response = gateway.put("/_sim/config", json=knobs)
    assert response.status_code == 200, response.text


def messages(gateway: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    return gateway.get("/_sim/messages", params=filters).json()["items"]


def error_of(response: httpx.Response) -> str:
    return response.json()["error"]


def assert_signed(report: Any, secret: str = SECRET) -> dict[str, Any]:
    """Check a report the way docs/sms-simulator.md tells a receiver to, and return its JSON."""
    timestamp = report.headers["x-sms-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + report.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(report.headers["x-sms-signature"].encode(), b"sha256=" + expected.encode())
    return json.loads(report.body)


# -- sending ---------------------------------------------------------------------------


def test_health_needs_no_key(gateway: httpx.Client) -> None:
    assert gateway.get("/healthz").json() == {"status": "ok"}


def test_an_accepted_message_gets_an_id_and_the_normalised_number(gateway: httpx.Client) -> None:
    answer = send_ok(gateway, Phone="+84 912-345.678", RequestId="r-1")
    assert answer["Status"] == "accepted"
    assert len(answer["SMSID"]) == 32
    assert answer["Phone"] == "84912345678"
    assert answer["RequestId"] == "r-1"
    [stored] = messages(gateway)
    assert stored["SMSID"] == answer["SMSID"]
    assert stored["Content"] == VIETNAMESE
    assert stored["Brandname"] == BRAND
    assert stored["account"] == "portal-test"


@pytest.mark.parametrize("phone", ["0912345678", "0912 345 678", "84912345678", "+84912345678", "(+84) 912.345.678"])
def test_every_accepted_form_of_a_mobile_number_means_the_same_subscriber(gateway: httpx.Client, phone: str) -> None:
    assert send_ok(gateway, Phone=phone)["Phone"] == "84912345678"


@pytest.mark.parametrize(
    "phone",
    [
        "02438251234",
        "0612345678",
        "091234567",
        "09123456789",
        "01234567890",
        "8491234567",
        "+1 202 555 0100",
        "09x2345678",
    ],
)
def test_anything_but_a_vietnamese_mobile_number_is_refused(gateway: httpx.Client, phone: str) -> None:
    response = send(gateway, Phone=phone)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_phone"
    assert response.json()["field"] == "Phone"
    assert messages(gateway) == []


@pytest.mark.parametrize(
    ("content", "encoding", "segments"),
    [
        ("a" * 160, "GSM7", 1),
        ("a" * 161, "GSM7", 2),
        ("a" * 306, "GSM7", 2),
        ("a" * 307, "GSM7", 3),
        ("{" * 80, "GSM7", 1),  # extension characters take two septets
        ("{" * 81, "GSM7", 2),
        ("Ho so da duoc tiep nhan, hen tra ngay 05/12", "GSM7", 1),
        ("cà, è, é, ì, ò, ù", "GSM7", 1),  # the few accented letters of the GSM-7 alphabet
        ("cà phê", "UCS2", 1),  # ê is not one of them
        ("ả", "UCS2", 1),
        ("ệ" * 70, "UCS2", 1),
        ("ệ" * 71, "UCS2", 2),
        ("ệ" * 134, "UCS2", 2),
        ("ệ" * 135, "UCS2", 3),
    ],
)
def test_segments_are_counted_as_gateways_bill_them(
    gateway: httpx.Client, content: str, encoding: str, segments: int
) -> None:
    answer = send_ok(gateway, Content=content)
    assert (answer["Encoding"], answer["Segments"]) == (encoding, segments)


def test_a_message_longer_than_the_limit_is_refused(gateway: httpx.Client) -> None:
    configure(gateway, max_segments=2)
    response = send(gateway, Content="ệ" * 135)
    assert response.status_code == 422
    assert error_of(response) == "content_too_long"
    assert send(gateway, Content="ệ" * 134).status_code == 200


def test_unaccented_only_gateways_refuse_vietnamese_diacritics(gateway: httpx.Client) -> None:
    configure(gateway, allow_unicode=False)
    response = send(gateway, Content=VIETNAMESE)
    assert response.status_code == 422
    assert error_of(response) == "unicode_not_allowed"
    assert send_ok(gateway, Content="Ho so HN-ABCD-EFGH da duoc tiep nhan")["Encoding"] == "GSM7"


@pytest.mark.parametrize("content", ["", "   ", None])
def test_an_empty_message_is_refused(gateway: httpx.Client, content: str | None) -> None:
    response = send(gateway, Content=content)
    assert response.status_code == 422
    assert error_of(response) in ("empty_content", "missing_field")


def test_the_api_key_is_required(gateway: httpx.Client) -> None:
    for key in ("", "wrong-key"):
        response = send(gateway, key=key)
        assert response.status_code == 401
        assert error_of(response) == "invalid_api_key"
    assert messages(gateway) == []


def test_only_the_brand_names_registered_for_the_key_may_send(gateway: httpx.Client) -> None:
    assert send(gateway, Brandname="UBND-HN").status_code == 200
    for brand in ("OTHER", "DVC-HCM", "dvc-hanoi"):  # another account's, unknown, wrong case
        response = send(gateway, Brandname=brand)
        assert response.status_code == 403, brand
        assert error_of(response) == "brand_not_registered"
    assert send(gateway, key=OTHER_KEY, Brandname="OTHER").status_code == 200


def test_refused_numbers_are_refused_in_any_form(gateway: httpx.Client) -> None:
    configure(gateway, refused_numbers=["0987 654 321"])
    response = send(gateway, Phone="+84987654321")
    assert response.status_code == 422
    assert error_of(response) == "phone_refused"
    assert send(gateway, Phone="0912345678").status_code == 200


def test_a_body_that_is_not_a_json_object_is_refused(gateway: httpx.Client) -> None:
    for raw in (b"not json", b"[1, 2]"):
        response = gateway.post("/api/v1/sms", content=raw, headers={"X-Api-Key": KEY})
        assert response.status_code == 400
    response = send(gateway, Phone=912345678)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_type", "message": "Phone must be a string", "field": "Phone"}


# -- idempotency --------------------------------------------------------------------------


def test_the_same_request_id_answers_the_same_message_and_sends_once(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    first = send(gateway, RequestId="notif-1", CallbackUrl=callback_url)
    again = send(gateway, RequestId="notif-1", CallbackUrl=callback_url)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    [stored] = messages(gateway)
    assert stored["submissions"] == 2
    [report] = wait_until(reports.received, what="the delivery report")
    assert json.loads(report.body)["SMSID"] == first.json()["SMSID"]
    assert len(gateway.get("/_sim/reports").json()["items"]) == 1  # one message, one report


def test_a_request_id_reused_for_another_text_is_a_conflict(gateway: httpx.Client) -> None:
    send_ok(gateway, RequestId="notif-2")
    response = send(gateway, RequestId="notif-2", Content="Một nội dung khác")
    assert response.status_code == 409
    assert error_of(response) == "request_id_reused"
    assert len(messages(gateway)) == 1


def test_request_ids_belong_to_one_account(gateway: httpx.Client) -> None:
    mine = send_ok(gateway, RequestId="same-id")
    theirs = send_ok(gateway, key=OTHER_KEY, Brandname="OTHER", RequestId="same-id")
    assert mine["SMSID"] != theirs["SMSID"]


def test_without_a_request_id_every_request_is_a_new_message(gateway: httpx.Client) -> None:
    assert send_ok(gateway)["SMSID"] != send_ok(gateway)["SMSID"]
    assert len(messages(gateway)) == 2


def test_a_lost_answer_is_recovered_by_retrying_with_the_same_request_id(gateway: httpx.Client) -> None:
    configure(gateway, lost_response_rate=1.0)
    lost = send(gateway, RequestId="notif-3")
    assert lost.status_code == 503
    [accepted] = messages(gateway)  # it was accepted all the same
    configure(gateway, lost_response_rate=0.0)
    retry = send(gateway, RequestId="notif-3")
    assert retry.status_code == 200
    assert retry.json()["SMSID"] == accepted["SMSID"]
    assert len(messages(gateway)) == 1


# -- faults ---------------------------------------------------------------------------------


def test_injected_errors_answer_503_and_send_nothing(gateway: httpx.Client) -> None:
    configure(gateway, error_rate=1.0)
    response = send(gateway, RequestId="notif-4")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert error_of(response) == "temporarily_unavailable"
    configure(gateway, error_rate=0.0, down=True)
    assert send(gateway).status_code == 503
    assert messages(gateway) == []
    assert gateway.get("/_sim/config").json()["down"] is True  # the control API stays up


def test_latency_delays_the_answer_past_a_short_client_timeout(gateway: httpx.Client) -> None:
    configure(gateway, latency_ms=2000)
    with pytest.raises(httpx.ReadTimeout):
        gateway.post(
            "/api/v1/sms",
            json={"Brandname": BRAND, "Phone": "0912345678", "Content": "x"},
            headers={"X-Api-Key": KEY},
            timeout=0.3,
        )


def test_knobs_are_checked(gateway: httpx.Client) -> None:
    assert gateway.put("/_sim/config", json={"accounts": []}).status_code == 400
    for knobs in ({"error_rate": 2}, {"max_segments": 0}, {"refused_numbers": ["123"]}, {"down": "maybe"}):
        response = gateway.put("/_sim/config", json=knobs)
        assert response.status_code == 422, knobs
        assert response.json()["error"] == "invalid_value"
    view = gateway.get("/_sim/config").json()
    assert view["accounts"] == [
        {"name": "portal-test", "brands": [BRAND, "UBND-HN"]},
        {"name": "other", "brands": ["OTHER"]},
    ]
    assert KEY not in json.dumps(view) and SECRET not in json.dumps(view)


def test_reset_forgets_messages_and_restores_the_knobs(gateway: httpx.Client) -> None:
    send_ok(gateway, RequestId="notif-5")
    configure(gateway, down=True)
    gateway.post("/_sim/reset")
    assert messages(gateway) == []
    assert gateway.get("/_sim/config").json()["down"] is False
    assert send(gateway, RequestId="notif-5").headers.get("Idempotent-Replayed") is None


# -- delivery reports -------------------------------------------------------------------------


def test_a_delivered_report_is_signed_and_names_the_message(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    answer = send_ok(gateway, RequestId="notif-6", CallbackUrl=callback_url)
    [received] = wait_until(reports.received, what="the delivery report")
    report = assert_signed(received)
    assert received.path == "/sms/reports"
    assert received.headers["x-sms-report-id"] == report["report_id"]
    assert received.headers["x-sms-delivery-attempt"] == "1"
    assert report["SMSID"] == answer["SMSID"]
    assert report["RequestId"] == "notif-6"
    assert report["Phone"] == "84912345678"
    assert report["Status"] == "delivered"
    assert report["ErrorCode"] is None
    status = gateway.get(f"/api/v1/sms/{answer['SMSID']}", headers={"X-Api-Key": KEY}).json()
    assert status["Status"] == "delivered"
    assert status["ReportedAt"] is not None


def test_reports_are_signed_with_the_secret_of_the_sending_account(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    send_ok(gateway, key=OTHER_KEY, Brandname="OTHER", CallbackUrl=callback_url)
    [received] = wait_until(reports.received)
    assert_signed(received, OTHER_SECRET)
    with pytest.raises(AssertionError):
        assert_signed(received, SECRET)


def test_a_failure_rate_of_one_fails_every_delivery(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    configure(gateway, delivery_failure_rate=1.0)
    send_ok(gateway, CallbackUrl=callback_url)
    report = assert_signed(wait_until(reports.received)[0])
    assert report["Status"] == "failed"
    assert report["ErrorCode"] in ("subscriber_unreachable", "unknown_subscriber", "expired")


def test_a_report_is_retried_until_the_receiver_answers_2xx(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    reports.failures_left = 2
    answer = send_ok(gateway, CallbackUrl=callback_url)
    wait_until(lambda: len(reports.received()) == 3, what="three attempts")
    calls = reports.received()
    assert [c.status for c in calls] == [500, 500, 204]
    assert [c.headers["x-sms-delivery-attempt"] for c in calls] == ["1", "2", "3"]
    assert len({c.body for c in calls}) == 1  # the body never changes; each attempt is signed again
    for call in calls:
        assert_signed(call)
    [entry] = wait_until(
        lambda: [
            e
            for e in gateway.get("/_sim/reports", params={"SMSID": answer["SMSID"]}).json()["items"]
            if e["state"] == "delivered"
        ]
    )
    assert entry["attempts"] == 3
    assert [a.get("status_code") for a in entry["attempt_log"]] == [500, 500, 204]


def test_a_report_nobody_accepts_is_given_up_after_the_last_attempt(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    reports.failures_left = 100
    send_ok(gateway, CallbackUrl=callback_url)
    [entry] = wait_until(lambda: [e for e in gateway.get("/_sim/reports").json()["items"] if e["state"] == "failed"])
    assert entry["attempts"] == 4
    assert entry["last_response_code"] == 500
    assert len(reports.received()) == 4


def test_duplicate_reports_carry_the_same_report_id(
    gateway: httpx.Client, reports: CallbackReceiver, callback_url: str
) -> None:
    configure(gateway, duplicate_reports=True)
    send_ok(gateway, CallbackUrl=callback_url)
    first, second = wait_until(lambda: reports.received() if len(reports.received()) == 2 else None)
    assert first.body == second.body
    assert assert_signed(first)["report_id"] == assert_signed(second)["report_id"]


def test_reports_can_be_driven_by_hand(gateway: httpx.Client, reports: CallbackReceiver, callback_url: str) -> None:
    configure(gateway, auto_report=False)
    answer = send_ok(gateway, CallbackUrl=callback_url)
    assert messages(gateway)[0]["Status"] == "accepted"
    forced = gateway.post(f"/_sim/messages/{answer['SMSID']}/report", json={"Status": "failed", "ErrorCode": "expired"})
    assert forced.status_code == 200
    assert forced.json()["Status"] == "failed"
    report = assert_signed(wait_until(reports.received)[0])
    assert (report["Status"], report["ErrorCode"]) == ("failed", "expired")
    again = gateway.post(f"/_sim/messages/{answer['SMSID']}/report", json={"Status": "delivered"})
    assert again.status_code == 409
    assert gateway.post("/_sim/messages/nope/report", json={}).status_code == 404


def test_the_status_of_a_message_is_visible_to_its_own_account_only(gateway: httpx.Client) -> None:
    configure(gateway, auto_report=False)
    answer = send_ok(gateway)
    mine = gateway.get(f"/api/v1/sms/{answer['SMSID']}", headers={"X-Api-Key": KEY})
    assert mine.json()["Status"] == "accepted"
    theirs = gateway.get(f"/api/v1/sms/{answer['SMSID']}", headers={"X-Api-Key": OTHER_KEY})
    assert theirs.status_code == 404


def test_a_callback_url_must_be_absolute_http(gateway: httpx.Client) -> None:
    response = send(gateway, CallbackUrl="/relative")
    assert response.status_code == 422
    assert error_of(response) == "invalid_url"


# -- configuration and the command line ------------------------------------------------------------


def test_configuration_comes_from_the_environment() -> None:
    config = SmsSimConfig.from_env(
        {
            "SMSSIM_ACCOUNTS": json.dumps(
                [{"name": "a", "api_key": "k", "brands": ["BRAND-A", "BRAND B"], "webhook_secret": "s"}]
            ),
            "SMSSIM_ALLOW_UNICODE": "0",
            "SMSSIM_ERROR_RATE": "0.25",
            "SMSSIM_REFUSED_NUMBERS": "0912345678, +84987654321",
            "SMSSIM_REPORT_MAX_ATTEMPTS": "3",
        }
    )
    assert config.accounts == (Account("a", "k", ("BRAND-A", "BRAND B"), "s"),)
    assert config.allow_unicode is False
    assert config.error_rate == 0.25
    assert config.refused_numbers == {"84912345678", "84987654321"}
    assert config.report_max_attempts == 3


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMSSIM_ERROR_RATE", "1.5"),
        ("SMSSIM_ERROR_RATE", "often"),
        ("SMSSIM_ACCOUNTS", "[]"),
        ("SMSSIM_ACCOUNTS", '[{"name": "a", "api_key": "k", "brands": ["TOO-LONG-BRAND"], "webhook_secret": "s"}]'),
        ("SMSSIM_REFUSED_NUMBERS", "12345"),
        ("SMSSIM_AUTO_REPORT", "perhaps"),
    ],
)
def test_bad_configuration_is_refused_with_the_variable_named(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable.removeprefix("SMSSIM_").lower() + "|" + variable):
        SmsSimConfig.from_env({variable: value})


def test_it_runs_alone_as_a_process_on_the_port_given() -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "SMSSIM_ACCOUNTS": json.dumps([{"name": "p", "api_key": "pk", "brands": ["B"], "webhook_secret": "s"}]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.sms", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def healthy() -> bool:
            assert process.poll() is None, process.stderr.read() if process.stderr else "exited"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=20, what="the simulator process answering")
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/sms",
            json={"Brandname": "B", "Phone": "0912345678", "Content": "Xin chào"},
            headers={"X-Api-Key": "pk"},
        )
        assert answer.status_code == 200, answer.text
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
