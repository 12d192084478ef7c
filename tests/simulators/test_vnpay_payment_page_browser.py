"""The simulator's payment page in a real browser (Debian's chromium through Playwright).

A tester opens the payment URL our client built, sees the order in Vietnamese, presses a
button and lands on the merchant's return page with parameters our client verifies.
Screenshots land in screenshots/ for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from payments.gateways.vnpay import Locale, PaymentOutcome, ResponseCode, VNPayClient
from tests.vnpay_support import VNPaySandbox, new_txn_ref, query_of, running_sandbox, wait_until

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: ./run test installs it")
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[VNPaySandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def vnpay(sandbox: VNPaySandbox) -> Iterator[VNPayClient]:
    sandbox.reset()
    with sandbox.client() as client:
        yield client


def test_a_tester_pays_on_the_vietnamese_page_and_returns_to_the_merchant(
    browser: Browser, sandbox: VNPaySandbox, vnpay: VNPayClient
) -> None:
    link = vnpay.build_payment_url(
        txn_ref=new_txn_ref(),
        amount_vnd=20_000,
        order_info="Lệ phí đăng ký thường trú, hồ sơ HN-2025-000123",
        ip_addr="113.160.92.202",
        return_url=sandbox.return_url,
    )
    page = browser.new_context(locale="vi-VN", viewport={"width": 900, "height": 900}).new_page()
    page.goto(link.url)
    expect(page.get_by_test_id("amount")).to_have_text("20.000 VND")
    expect(page.get_by_test_id("txn-ref")).to_have_text(link.txn_ref)
    expect(page.get_by_role("button", name="Thanh toán thành công")).to_be_visible()
    expect(page.get_by_role("button", name="Hủy thanh toán")).to_be_visible()
    expect(page.get_by_label("Lý do thất bại")).to_have_value("51")
    page.screenshot(path=str(SHOTS / "vnpay-01-payment-page.png"), full_page=True)

    page.get_by_test_id("pay-success").click()
    expect(page.get_by_test_id("merchant-return")).to_be_visible()
    assert page.url.startswith(sandbox.return_url + "?")
    returned = vnpay.verify_callback(query_of(page.url))
    assert (returned.outcome, returned.amount_vnd, returned.txn_ref) == (PaymentOutcome.PAID, 20_000, link.txn_ref)
    (ipn,) = wait_until(lambda: sandbox.merchant.calls(link.txn_ref), what="the IPN")
    assert vnpay.verify_callback(ipn.raw_query).outcome is PaymentOutcome.PAID


def test_a_tester_chooses_a_failure_reason_on_the_english_page(
    browser: Browser, sandbox: VNPaySandbox, vnpay: VNPayClient
) -> None:
    link = vnpay.build_payment_url(
        txn_ref=new_txn_ref(),
        amount_vnd=2_000,
        order_info="Certified copy fee, 1 page",
        ip_addr="113.160.92.202",
        return_url=sandbox.return_url,
        locale=Locale.ENGLISH,
    )
    page = browser.new_context(locale="en-GB", viewport={"width": 900, "height": 900}).new_page()
    page.goto(link.url)
    expect(page.get_by_test_id("amount")).to_have_text("2,000 VND")
    page.get_by_label("Reason for the failure").select_option("13")
    page.screenshot(path=str(SHOTS / "vnpay-02-payment-page-english.png"), full_page=True)
    page.get_by_role("button", name="Payment fails").click()
    expect(page.get_by_test_id("merchant-return")).to_be_visible()
    returned = vnpay.verify_callback(query_of(page.url))
    assert returned.outcome is PaymentOutcome.FAILED
    assert returned.response_code is ResponseCode.WRONG_OTP


def test_a_tampered_link_shows_the_wrong_signature_page(
    browser: Browser, sandbox: VNPaySandbox, vnpay: VNPayClient
) -> None:
    link = vnpay.build_payment_url(
        txn_ref=new_txn_ref(),
        amount_vnd=20_000,
        order_info="Le phi",
        ip_addr="113.160.92.202",
        return_url=sandbox.return_url,
    )
    page = browser.new_context(locale="vi-VN", viewport={"width": 900, "height": 600}).new_page()
    page.goto(link.url.replace("vnp_Amount=2000000", "vnp_Amount=200000"))
    expect(page.get_by_role("alert")).to_contain_text("Sai chữ ký")
    expect(page.get_by_test_id("error-code")).to_have_text("70")
    page.screenshot(path=str(SHOTS / "vnpay-03-wrong-signature.png"), full_page=True)
