"""Our SMS client against the gateway simulator over real HTTP, and the delivery-report verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date
from typing import Any

import httpx
import pytest

from agents.notifications.rules import (
    Accepted,
    NotificationFacts,
    NotificationKind,
    Refused,
    RetryLater,
    sms_segments,
    sms_text,
    tracking_link,
)
from agents.notifications.sms import SmsGatewayClient, verify_delivery_report
from portal.core.errors import AuthenticationFailed, ExternalServiceError, ValidationFailed
from simulators.smtp import free_port
from tests.agents.notifications.conftest import API_KEY, BRAND, STRANGER_KEY, WEBHOOK_SECRET, ReportEndpoint
from tests.receivers import wait_until

TEXT = "Hồ sơ HN-ABCD-EFGH đã được tiếp nhận. Xem: http://127.0.0.1:8000/track?code=HN-ABCD-EFGH"


def configure(gateway: httpx.Client, **knobs: Any) -> None:
    response = gateway.put("/_sim/config", json=knobs)
    assert response.status_code == 200, response.text


def sent(gateway: httpx.Client) -> list[dict[str, Any]]:
    return gateway.get("/_sim/messages").json()["items"]


# -- sending ---------------------------------------------------------------------------------


def test_an_accepted_message_answers_the_gateways_message_id(sms: SmsGatewayClient, gateway: httpx.Client) -> None:
    outcome = sms.send("0912 345 678", TEXT, "notification-1")
    assert isinstance(outcome, Accepted)
    assert outcome.replayed is False
    [message] = sent(gateway)
    assert message["SMSID"] == outcome.message_id
    assert message["Phone"] == "84912345678"
    assert message["Brandname"] == BRAND
    assert message["Content"] == TEXT
    assert message["RequestId"] == "notification-1"
    assert outcome.segments == message["Segments"] == sms_segments(TEXT) == 2


def test_decomposed_vietnamese_is_sent_composed(sms: SmsGatewayClient, gateway: httpx.Client) -> None:
    decomposed = "Ho\u0302\u0300 so\u031b"  # "Hồ sơ" typed with combining marks
    assert isinstance(sms.send("0912345678", decomposed, "notification-nfc"), Accepted)
    assert sent(gateway)[0]["Content"] == "Hồ sơ"


def test_sending_again_with_the_same_request_id_does_not_send_twice(
    sms: SmsGatewayClient, gateway: httpx.Client, reports: ReportEndpoint
) -> None:
    first = sms.send("0912345678", TEXT, "notification-2")
    again = sms.send("0912345678", TEXT, "notification-2")
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.message_id == first.message_id
    assert again.replayed is True
    [message] = sent(gateway)
    assert message["submissions"] == 2
    [report] = wait_until(lambda: reports.reports, what="the delivery report")
    assert report.message_id == first.message_id
    assert len(gateway.get("/_sim/reports").json()["items"]) == 1


def test_an_answer_lost_after_acceptance_is_retryable_and_the_retry_finds_the_same_message(
    sms: SmsGatewayClient, gateway: httpx.Client
) -> None:
    configure(gateway, lost_response_rate=1.0)
    lost = sms.send("0912345678", TEXT, "notification-3")
    assert isinstance(lost, RetryLater)
    configure(gateway, lost_response_rate=0.0)
    retry = sms.send("0912345678", TEXT, "notification-3")
    assert isinstance(retry, Accepted)
    assert [m["SMSID"] for m in sent(gateway)] == [retry.message_id]


# -- refusals: permanent (the message) and not (our account) -------------------------------------


def test_an_invalid_number_is_refused_for_good_without_asking_the_gateway(
    sms: SmsGatewayClient, gateway: httpx.Client
) -> None:
    for phone, code in [("02438251234", "landline"), ("01234567890", "old_mobile_format"), ("", "missing_phone")]:
        outcome = sms.send(phone, TEXT, f"notification-{code}")
        assert outcome == Refused(code, f"not a Vietnamese mobile number: {code}", permanent=True)
    assert sent(gateway) == []


def test_a_number_the_gateway_refuses_is_a_permanent_refusal(sms: SmsGatewayClient, gateway: httpx.Client) -> None:
    configure(gateway, refused_numbers=["0987654321"])
    outcome = sms.send("+84 987 654 321", TEXT, "notification-4")
    assert isinstance(outcome, Refused)
    assert outcome.permanent is True
    assert outcome.code == "phone_refused"
    assert "opted out" in outcome.reason


def test_a_text_the_gateway_cannot_take_is_a_permanent_refusal(sms: SmsGatewayClient, gateway: httpx.Client) -> None:
    configure(gateway, max_segments=1)
    too_long = sms.send("0912345678", TEXT, "notification-5")
    assert isinstance(too_long, Refused) and too_long.permanent and too_long.code == "content_too_long"
    configure(gateway, max_segments=5, allow_unicode=False)
    accented = sms.send("0912345678", TEXT, "notification-6")
    assert isinstance(accented, Refused) and accented.permanent and accented.code == "unicode_not_allowed"
    assert sent(gateway) == []


def test_an_unaccented_text_passes_a_gateway_that_refuses_diacritics(
    sms: SmsGatewayClient, gateway: httpx.Client
) -> None:
    configure(gateway, allow_unicode=False)
    facts = NotificationFacts("HN-ABCD-EFGH", tracking_link("http://127.0.0.1:8000", "HN-ABCD-EFGH"), "Đăng ký tạm trú")
    outcome = sms.send("0912345678", sms_text(NotificationKind.received, facts, accents=False), "notification-7")
    assert isinstance(outcome, Accepted)
    assert sent(gateway)[0]["Encoding"] == "GSM7"


def test_our_segment_count_agrees_with_the_gateways_for_every_text(
    sms: SmsGatewayClient, gateway: httpx.Client
) -> None:
    facts = NotificationFacts(
        "HN-ABCD-EFGH",
        tracking_link("https://dichvucong.hanoi.gov.vn", "HN-ABCD-EFGH"),
        "Đăng ký tạm trú",
        note="Đề nghị công dân bổ sung giấy tờ: bản sao giấy tờ chứng minh chỗ ở hợp pháp",
        due_date=date(2026, 12, 5),
        point_name="Bưu điện Bờ Hồ",
    )
    for kind in NotificationKind:
        for accents in (True, False):
            text = sms_text(kind, facts, accents=accents)
            outcome = sms.send("0912345678", text, f"{kind.value}-{accents}")
            assert isinstance(outcome, Accepted), (kind, outcome)
            assert outcome.segments == sms_segments(text) <= 2, (kind, accents, text)


def test_a_wrong_api_key_or_brand_is_our_configuration_not_the_messages_fault(
    gateway_url: str, gateway: httpx.Client
) -> None:
    with SmsGatewayClient(gateway_url, "not-our-key", BRAND) as wrong_key:
        outcome = wrong_key.send("0912345678", TEXT, "notification-8")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == ("invalid_api_key", False)
    with SmsGatewayClient(gateway_url, API_KEY, "NOT-OURS") as wrong_brand:
        outcome = wrong_brand.send("0912345678", TEXT, "notification-8")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == ("brand_not_registered", False)
    assert sent(gateway) == []


# -- retryable errors ----------------------------------------------------------------------------


def test_gateway_errors_are_retryable_and_say_how_long_to_wait(sms: SmsGatewayClient, gateway: httpx.Client) -> None:
    configure(gateway, error_rate=1.0)
    assert sms.send("0912345678", TEXT, "notification-9") == RetryLater("SMS gateway answered 503", retry_after=1.0)
    configure(gateway, error_rate=0.0, down=True)
    assert isinstance(sms.send("0912345678", TEXT, "notification-9"), RetryLater)
    assert sent(gateway) == []


def test_a_gateway_slower_than_our_timeout_is_retryable(gateway_url: str, gateway: httpx.Client) -> None:
    configure(gateway, latency_ms=2000)
    with SmsGatewayClient(gateway_url, API_KEY, BRAND, timeout_seconds=0.3) as impatient:
        outcome = impatient.send("0912345678", TEXT, "notification-10")
    assert isinstance(outcome, RetryLater)
    assert "timed out" in outcome.reason


def test_a_gateway_nobody_answers_for_is_retryable() -> None:
    with SmsGatewayClient(f"http://127.0.0.1:{free_port()}", API_KEY, BRAND) as nowhere:
        outcome = nowhere.send("0912345678", TEXT, "notification-11")
    assert isinstance(outcome, RetryLater)
    assert "unreachable" in outcome.reason


def test_a_request_id_is_required() -> None:
    with SmsGatewayClient("http://127.0.0.1:9", API_KEY, BRAND) as client, pytest.raises(ValueError):
        client.send("0912345678", TEXT, "")


# -- delivery reports ------------------------------------------------------------------------------


def test_a_delivery_report_reaches_our_endpoint_verified(
    sms: SmsGatewayClient, gateway: httpx.Client, reports: ReportEndpoint
) -> None:
    outcome = sms.send("0912345678", TEXT, "notification-12")
    assert isinstance(outcome, Accepted)
    [report] = wait_until(lambda: reports.reports, what="the delivery report")
    assert report.message_id == outcome.message_id
    assert report.request_id == "notification-12"
    assert report.delivered
    assert report.error_code is None
    assert reports.refusals == []
    assert sms.message_status(outcome.message_id).state == "delivered"


def test_a_failed_delivery_is_reported_with_its_reason(
    sms: SmsGatewayClient, gateway: httpx.Client, reports: ReportEndpoint
) -> None:
    configure(gateway, delivery_failure_rate=1.0)
    sms.send("0912345678", TEXT, "notification-13")
    [report] = wait_until(lambda: reports.reports)
    assert report.state == "failed"
    assert not report.delivered
    assert report.error_code in ("subscriber_unreachable", "unknown_subscriber", "expired")


def test_a_duplicate_report_is_recognised_by_its_report_id(
    sms: SmsGatewayClient, gateway: httpx.Client, reports: ReportEndpoint
) -> None:
    configure(gateway, duplicate_reports=True)
    sms.send("0912345678", TEXT, "notification-14")
    wait_until(lambda: len(reports.receiver.received()) == 2, what="both copies")
    assert len(reports.reports) == 1


def test_a_report_signed_with_another_secret_is_refused_by_our_verifier_and_retried(
    gateway_url: str, gateway: httpx.Client, reports: ReportEndpoint, report_endpoint: tuple[ReportEndpoint, str]
) -> None:
    with SmsGatewayClient(gateway_url, STRANGER_KEY, BRAND, callback_url=report_endpoint[1]) as stranger:
        assert isinstance(stranger.send("0912345678", TEXT, "notification-15"), Accepted)
    [entry] = wait_until(lambda: [e for e in gateway.get("/_sim/reports").json()["items"] if e["state"] == "failed"])
    assert entry["attempts"] == 3
    assert entry["last_response_code"] == 401
    assert reports.reports == []
    assert reports.refusals == ["delivery report signature does not match"] * 3


def test_a_report_that_fails_to_reach_us_is_retried_until_we_answer(
    sms: SmsGatewayClient, gateway: httpx.Client, reports: ReportEndpoint
) -> None:
    reports.receiver.failures_left = 2
    sms.send("0912345678", TEXT, "notification-16")
    [report] = wait_until(lambda: reports.reports)
    assert [r.status for r in reports.receiver.received()] == [500, 500, 204]
    assert report.request_id == "notification-16"


def test_the_status_of_an_unknown_message_is_a_final_error(sms: SmsGatewayClient) -> None:
    with pytest.raises(ExternalServiceError) as caught:
        sms.message_status("0" * 32)
    assert caught.value.retryable is False


# -- the verifier on its own --------------------------------------------------------------------------


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[str, str]:
    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return timestamp, f"sha256={digest}"


REPORT = json.dumps(
    {
        "report_id": "r1",
        "SMSID": "m1",
        "RequestId": "notification-1",
        "Phone": "84912345678",
        "Status": "delivered",
        "ErrorCode": None,
        "Segments": 1,
        "ReportedAt": "2026-12-02T09:15:02+07:00",
    }
).encode()


def test_the_verifier_accepts_a_correctly_signed_report() -> None:
    report = verify_delivery_report(WEBHOOK_SECRET, *signed(REPORT), REPORT)
    assert (report.report_id, report.message_id, report.state) == ("r1", "m1", "delivered")
    assert report.reported_at.utcoffset().total_seconds() == 7 * 3600


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("tampered body", "signature does not match"),
        ("other secret", "signature does not match"),
        ("stale", "too old"),
        ("future", "too old or in the future"),
        ("no signature", "missing"),
        ("no timestamp", "missing"),
        ("timestamp not a number", "not a unix time"),
        ("signature not ascii", "signature does not match"),
        ("bare hex", "signature does not match"),
    ],
)
def test_the_verifier_refuses_what_we_did_not_sign(case: str, expected: str) -> None:
    timestamp, signature = signed(REPORT)
    body = REPORT
    if case == "tampered body":
        body = REPORT.replace(b'"delivered"', b'"failed"')
    elif case == "other secret":
        timestamp, signature = signed(REPORT, "another-secret")
    elif case == "stale":
        timestamp, signature = signed(REPORT, at=int(time.time()) - 301)
    elif case == "future":
        timestamp, signature = signed(REPORT, at=int(time.time()) + 301)
    elif case == "no signature":
        signature = ""
    elif case == "no timestamp":
        timestamp = ""
    elif case == "timestamp not a number":
        timestamp = "yesterday"
    elif case == "signature not ascii":
        signature = "sha256=ệ"
    elif case == "bare hex":
        signature = signature.removeprefix("sha256=")
    with pytest.raises(AuthenticationFailed, match=expected):
        verify_delivery_report(WEBHOOK_SECRET, timestamp, signature, body)


def test_a_signed_body_that_is_not_a_report_is_invalid_not_unauthenticated() -> None:
    for body in (b"not json", b"{}", json.dumps({**json.loads(REPORT), "Status": "lost"}).encode()):
        with pytest.raises(ValidationFailed):
            verify_delivery_report(WEBHOOK_SECRET, *signed(body), body)


def test_the_demo_sms_settings_are_an_account_the_simulator_knows():
    from portal.core.settings import load_settings
    from simulators.sms.config import DEFAULT_ACCOUNTS

    sms = load_settings({}).sms
    client = SmsGatewayClient.from_settings(sms)
    account = next(a for a in DEFAULT_ACCOUNTS if a.api_key == client.api_key)
    assert client.brand in account.brands
    assert sms.webhook_secret == account.webhook_secret
