"""Test-side pieces for VNPay: the simulator in a thread, a stand-in for the merchant's
IPN endpoint and return page (the portal's own do not exist yet), and a driver for the
simulator's payment page that submits its HTML form the way a browser does.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from payments.gateways.vnpay import VNPayClient
from simulators.vnpay import Merchant, SimConfig, create_app
from tests.servers import serve_in_thread

TMN_CODE = "TESTTMN1"
HASH_SECRET = "TESTSECRET0123456789ABCDEFGHIJKL"
OTHER_TMN_CODE = "OTHERTM2"
OTHER_SECRET = "OTHERSECRET9876543210ZYXWVUTSRQP"
PAYMENT_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Poll until `predicate()` is truthy; the CI box is busy, so the deadline is generous."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


_refs = itertools.count(1)


def new_txn_ref() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}{next(_refs)}"


_TXN_REF = re.compile(r"(?:^|&)vnp_TxnRef=([A-Za-z0-9]+)")


@dataclass
class IpnCall:
    txn_ref: str
    raw_query: bytes
    received_at: float
    status_code: int
    reply: dict[str, str] | None


class MerchantStandIn:
    """A bare ASGI app playing the merchant: `GET /ipn` answers from a per-order script
    (default `RspCode 00`) and records the raw query; `GET /return` shows a page. It
    verifies nothing itself: the tests verify what it received with our client.

    Calls and scripts are keyed by `vnp_TxnRef`, so an IPN of an earlier test still on its
    way cannot be mistaken for this test's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ipn_calls: list[IpnCall] = []
        self.returns: list[bytes] = []
        self._scripts: dict[str, deque[int | dict[str, str]]] = {}

    def answer(self, txn_ref: str, *replies: int | str) -> None:
        """Script the next IPN answers for one order: an `RspCode` (JSON 200) or an HTTP status (no JSON)."""
        with self._lock:
            script = self._scripts.setdefault(txn_ref, deque())
            for reply in replies:
                script.append({"RspCode": reply, "Message": "scripted"} if isinstance(reply, str) else reply)

    def reset(self) -> None:
        with self._lock:
            self.ipn_calls.clear()
            self.returns.clear()
            self._scripts.clear()

    def calls(self, *txn_refs: str) -> list[IpnCall]:
        """The IPNs received for these orders (all orders when none is named), in arrival order."""
        with self._lock:
            return [c for c in self.ipn_calls if not txn_refs or c.txn_ref in txn_refs]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path, query = scope["path"], scope["query_string"]
        if path == "/ipn":
            match = _TXN_REF.search(query.decode("ascii", "replace"))
            txn_ref = match.group(1) if match else ""
            with self._lock:
                script = self._scripts.get(txn_ref)
                scripted = script.popleft() if script else {"RspCode": "00", "Message": "Confirm Success"}
                status, reply = (scripted, None) if isinstance(scripted, int) else (200, scripted)
                self.ipn_calls.append(IpnCall(txn_ref, query, time.monotonic(), status, reply))
            body = json.dumps(reply).encode() if reply is not None else b"merchant error"
            content_type = b"application/json" if reply is not None else b"text/plain"
        elif path == "/return":
            with self._lock:
                self.returns.append(query)
            status, content_type = 200, b"text/html; charset=utf-8"
            body = '<!doctype html><html lang="vi"><body><h1 data-testid="merchant-return">Cửa hàng thử nghiệm</h1></body></html>'.encode()
        else:
            status, content_type, body = 404, b"text/plain", b"not found"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class VNPaySandbox:
    """The simulator (in a thread) with our merchant registered, and the merchant stand-in."""

    base_url: str
    merchant_url: str
    merchant: MerchantStandIn
    control: httpx.Client

    @property
    def payment_url(self) -> str:
        return self.base_url + PAYMENT_PATH

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    @property
    def return_url(self) -> str:
        return self.merchant_url + "/return"

    def client(self, *, tmn_code: str = TMN_CODE, hash_secret: str = HASH_SECRET, **options: Any) -> VNPayClient:
        return VNPayClient(
            tmn_code=tmn_code, hash_secret=hash_secret, payment_url=self.payment_url, api_url=self.api_url, **options
        )

    def configure(self, **knobs: Any) -> dict[str, Any]:
        response = self.control.put("/_sim/config", json=knobs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control.post("/_sim/reset").raise_for_status()
        self.configure(**DEFAULT_KNOBS)
        self.merchant.reset()

    def transactions(self, **filters: str) -> list[dict[str, Any]]:
        return self.control.get("/_sim/transactions", params=filters).json()["items"]

    def transaction(self, txn_ref: str) -> dict[str, Any]:
        (record,) = self.transactions(txn_ref=txn_ref)
        return record

    def ipn_log(self, txn_ref: str | None = None) -> list[dict[str, Any]]:
        params = {"txn_ref": txn_ref} if txn_ref else {}
        return self.control.get("/_sim/ipn", params=params).json()["items"]


DEFAULT_KNOBS: dict[str, Any] = {
    "ipn_delay_seconds": 0,
    "ipn_duplicate": False,
    "ipn_reorder": False,
    "ipn_reorder_window_seconds": 3,
    "ipn_bad_signature": False,
    "ipn_drop": False,
    "ipn_retry_seconds": 0.05,
    "ipn_max_attempts": 10,
    "ipn_timeout_seconds": 5,
    "api_latency_ms": 0,
    "api_error_rate": 0,
    "api_down": False,
    "api_bad_signature": False,
}


@contextmanager
def running_sandbox() -> Iterator[VNPaySandbox]:
    merchant = MerchantStandIn()
    with serve_in_thread(lambda _base: merchant) as (merchant_url, _):
        config = SimConfig(
            merchants={
                TMN_CODE: Merchant(TMN_CODE, HASH_SECRET, merchant_url + "/ipn", "Cổng Đại lý Dịch vụ công (thử)"),
                OTHER_TMN_CODE: Merchant(OTHER_TMN_CODE, OTHER_SECRET, None, "Another merchant"),
            },
            seed=11,
        )
        with (
            serve_in_thread(lambda _base: create_app(config)) as (base_url, _),
            httpx.Client(base_url=base_url, timeout=10) as control,
        ):
            sandbox = VNPaySandbox(base_url, merchant_url, merchant, control)
            sandbox.configure(**DEFAULT_KNOBS)
            yield sandbox


# -- the payment page, driven like a browser ----------------------------------------------------------


class PaymentPage(HTMLParser):
    """What the simulator's page shows: texts by data-testid, and its form."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.form_action: str | None = None
        self.hidden: dict[str, str] = {}
        self.buttons: dict[str, str] = {}  # choice value -> label
        self.reasons: list[str] = []
        self.lang: str | None = None
        self._open: list[tuple[str, str | None]] = []
        self._button: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "form":
            self.form_action = a.get("action")
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.hidden[a["name"] or ""] = a.get("value") or ""
        if tag == "option" and a.get("value"):
            self.reasons.append(a["value"] or "")
        if tag == "button":
            self._button = a.get("value") or ""
            self.buttons[self._button] = ""
        if tag not in ("input", "meta", "br"):
            self._open.append((tag, a.get("data-testid")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self.buttons[self._button] += data
        for _, key in reversed(self._open):
            if key:
                self.texts[key] = self.texts.get(key, "") + data
                break


def open_page(url: str) -> tuple[httpx.Response, PaymentPage]:
    response = httpx.get(url, timeout=10)
    return response, PaymentPage(response.text)


def choose(payment_url: str, choice: str, reason: str | None = None) -> str:
    """Open the payment page, press a button; returns the Location VNPay redirects to."""
    response, page = open_page(payment_url)
    assert response.status_code == 200, page.texts
    assert page.form_action and choice in page.buttons
    form = {**page.hidden, "choice": choice}
    if reason is not None:
        form["reason"] = reason
    answer = httpx.post(urljoin(payment_url, page.form_action), data=form, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def query_of(location: str) -> str:
    return location.split("?", 1)[1]


def field_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|&){re.escape(name)}=([^&]*)")
