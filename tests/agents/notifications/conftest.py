"""The SMS gateway simulator on a free port, and our delivery-report endpoint stand-in that verifies what it gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from agents.notifications.sms import DeliveryReport, SmsGatewayClient, verify_delivery_report
from portal.core.errors import AuthenticationFailed, ValidationFailed
from simulators.sms.app import create_app
from simulators.sms.config import Account, SmsSimConfig
from tests.receivers import CallbackReceiver
from tests.servers import serve_in_thread

API_KEY = "portal-test-key"
BRAND = "DVC-HANOI"
WEBHOOK_SECRET = "portal-test-report-secret"
#: An account whose reports are signed with a secret we do not share.
STRANGER_KEY = "stranger-key"


class ReportEndpoint:
    """What our delivery-report endpoint will do: verify, answer 401/422 when it must, keep each report once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reports: list[DeliveryReport] = []
        self.refusals: list[str] = []
        self.receiver = CallbackReceiver(self._answer)

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            report = verify_delivery_report(
                WEBHOOK_SECRET, headers.get("x-sms-timestamp"), headers.get("x-sms-signature"), body
            )
        except AuthenticationFailed as exc:
            self.refusals.append(exc.message)
            return 401
        except ValidationFailed as exc:
            self.refusals.append(exc.message)
            return 422
        with self._lock:
            if all(known.report_id != report.report_id for known in self.reports):
                self.reports.append(report)
        return 204

    def reset(self) -> None:
        with self._lock:
            self.reports.clear()
            self.refusals.clear()
        self.receiver.reset()


@pytest.fixture(scope="package")
def report_endpoint() -> Iterator[tuple[ReportEndpoint, str]]:
    endpoint = ReportEndpoint()
    with serve_in_thread(lambda _: endpoint.receiver) as (url, _):
        yield endpoint, url + "/api/sms/reports"


@pytest.fixture(scope="package")
def gateway_url() -> Iterator[str]:
    config = SmsSimConfig(
        accounts=(
            Account("portal", API_KEY, (BRAND,), WEBHOOK_SECRET),
            Account("stranger", STRANGER_KEY, (BRAND,), "a-secret-we-do-not-know"),
        ),
        delivery_delay_seconds=0,
        report_retry_base=0.05,
        report_max_attempts=3,
        seed=7,
    )
    with serve_in_thread(lambda _: create_app(config)) as (url, _):
        yield url


@pytest.fixture
def gateway(gateway_url: str, report_endpoint: tuple[ReportEndpoint, str]) -> Iterator[httpx.Client]:
    """The simulator's control API, reset for each test."""
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        report_endpoint[0].reset()
        yield client


@pytest.fixture
def reports(report_endpoint: tuple[ReportEndpoint, str]) -> ReportEndpoint:
    return report_endpoint[0]


@pytest.fixture
def sms(
    gateway: httpx.Client, gateway_url: str, report_endpoint: tuple[ReportEndpoint, str]
) -> Iterator[SmsGatewayClient]:
    client = SmsGatewayClient(gateway_url, API_KEY, BRAND, callback_url=report_endpoint[1], timeout_seconds=5)
    yield client
    client.close()
