"""ASGI app of the VNPay sandbox simulator (Litestar).

Run it with `python -m simulators.vnpay` or `uvicorn simulators.vnpay.app:app`.
Endpoints, knobs and start-up: `docs/vnpay-simulator.md`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, Request, Response, Router, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from . import webapi
from .checksum import signed_query, spoil
from .clock import iso_ms, now_vn
from .config import RUNTIME_KNOBS, SimConfig, coerce_knob, merchant_from_json
from .ipn import IpnDispatcher
from .ledger import CANCEL_CHOICE, FAILURE_CHOICE, FAILURE_REASONS, PENDING, SUCCESS_CHOICE, Ledger, Transaction
from .pages import error_page, payment_page
from .payment_request import PageError, read_payment_request

log = logging.getLogger("simulators.vnpay")

PAYMENT_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"
API_LOG_SIZE = 1000
_HTML = "text/html; charset=utf-8"
_NO_STORE = {"Cache-Control": "no-store"}


class Simulator:
    """All state of one simulator: configuration, ledger, IPN dispatcher, API call log."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.ledger = Ledger()
        self.ipn = IpnDispatcher(lambda: self.config)
        self.api_calls: list[dict[str, Any]] = []
        self.faults = random.Random(config.seed)

    async def start(self) -> None:
        await self.ipn.start()

    async def stop(self) -> None:
        await self.ipn.stop()

    async def reset(self) -> None:
        await self.ipn.clear()
        self.ledger.clear()
        self.api_calls.clear()

    def decide(self, txn: Transaction, choice: str, reason: str | None) -> None:
        """Record the customer's choice, sign the result, queue the IPN."""
        self.ledger.decide(txn, choice, reason)
        merchant = self.config.merchants[txn.tmn_code]
        params = txn.callback_params()
        txn.return_query = signed_query(merchant.hash_secret, params)
        if merchant.ipn_url:
            good = txn.return_query
            head, _, checksum = good.rpartition("vnp_SecureHash=")
            self.ipn.enqueue(
                txn.tmn_code, txn.txn_ref, merchant.ipn_url, good, head + "vnp_SecureHash=" + spoil(checksum)
            )
        log.info("%s %s: %s (%s)", txn.tmn_code, txn.txn_ref, txn.state, txn.response_code)


def _sim(request: Request) -> Simulator:
    return request.app.state.vnpay


def _html(body: str, status_code: int = 200) -> Response[str]:
    return Response(body, status_code=status_code, media_type=_HTML, headers=_NO_STORE)


def _redirect(location: str) -> Response[str]:
    # Built by hand so the signed query is sent exactly as composed.
    return Response("", status_code=302, media_type="text/plain", headers={"Location": location, **_NO_STORE})


def _return_location(txn: Transaction) -> str:
    separator = "&" if "?" in txn.return_url else "?"
    return f"{txn.return_url}{separator}{txn.return_query}"


def _handle_page_error(_: Request, exc: PageError) -> Response[str]:
    return _html(error_page(exc.code, exc.detail, exc.locale), status_code=404 if exc.code == "404" else 400)


def _handle_http_exception(_: Request, exc: HTTPException) -> Response[Any]:
    return Response({"error": "http_error", "message": exc.detail}, status_code=exc.status_code)


class ControlError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def _handle_control_error(_: Request, exc: ControlError) -> Response[Any]:
    return Response({"error": "invalid_request", "message": exc.message}, status_code=exc.status_code)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ControlError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ControlError(422, "the body must be a JSON object")
    return body


# -- the payment page ---------------------------------------------------------------------------


@get(PAYMENT_PATH)
async def show_payment_page(request: Request) -> Response[str]:
    sim = _sim(request)
    order = read_payment_request(request.scope["query_string"], sim.config, now_vn())
    txn = sim.ledger.find(order.merchant.tmn_code, order.txn_ref)
    if txn is not None:
        same_order = txn.amount_vnd == order.amount_vnd and txn.create_date == order.create_date
        if txn.state != PENDING or not same_order:
            raise PageError("94", f"vnp_TxnRef {order.txn_ref} was already used", order.locale)
    else:
        txn = sim.ledger.open(
            tmn_code=order.merchant.tmn_code,
            txn_ref=order.txn_ref,
            amount_vnd=order.amount_vnd,
            order_info=order.order_info,
            create_date=order.create_date,
            expire_date=order.expire_date,
            return_url=order.return_url,
            locale=order.locale,
            ip_addr=order.ip_addr,
        )
    return _html(payment_page(txn, order.merchant.name, PAYMENT_PATH))


@post(PAYMENT_PATH, status_code=302)
async def choose_outcome(request: Request) -> Response[str]:
    sim = _sim(request)
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise PageError("03", "the form is not UTF-8") from None
    txn = sim.ledger.by_ticket.get(form.get("ticket", ""))
    if txn is None:
        raise PageError("404")
    choice, reason = form.get("choice"), form.get("reason") or None
    if choice not in (SUCCESS_CHOICE, CANCEL_CHOICE, FAILURE_CHOICE):
        raise PageError("03", "choose success, cancel or failure", txn.locale)
    if choice == FAILURE_CHOICE and reason is not None and reason not in FAILURE_REASONS:
        raise PageError("03", "unknown failure reason", txn.locale)
    if txn.state == PENDING:
        sim.decide(txn, choice, reason)
    # A second submission (double click, back button) redirects again and sends nothing new.
    return _redirect(_return_location(txn))


# -- the merchant web API -----------------------------------------------------------------------


@post(API_PATH, status_code=200)
async def transaction_api(request: Request) -> Response[Any]:
    sim = _sim(request)
    config = sim.config
    if config.api_latency_ms > 0:
        await asyncio.sleep(config.api_latency_ms / 1000)
    if config.api_down or (config.api_error_rate > 0 and sim.faults.random() < config.api_error_rate):
        return Response({"error": "service_unavailable"}, status_code=503, headers={"Retry-After": "1"})
    raw = await request.body()
    try:
        body: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    answer = webapi.handle(body, config, sim.ledger)
    sim.api_calls.append({"at": iso_ms(now_vn()), "request": body, "response": answer})
    del sim.api_calls[:-API_LOG_SIZE]
    return Response(answer, status_code=200)


# -- /_sim control endpoints ----------------------------------------------------------------------


@get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return _sim(request).config.public_view()


@put("/config")
async def put_config(request: Request) -> dict[str, Any]:
    sim = _sim(request)
    changes: dict[str, Any] = {}
    for name, value in (await _json_object(request)).items():
        if name not in RUNTIME_KNOBS:
            raise ControlError(400, f"{name} cannot be changed at runtime")
        try:
            changes[name] = coerce_knob(name, value)
        except ValueError as exc:
            raise ControlError(422, str(exc)) from None
    for name, value in changes.items():
        setattr(sim.config, name, value)
    return sim.config.public_view()


@get("/merchants")
async def list_merchants(request: Request) -> dict[str, Any]:
    return {"items": [m.public_view() for m in _sim(request).config.merchants.values()]}


@put("/merchants/{tmn_code:str}")
async def put_merchant(request: Request, tmn_code: FromPath[str]) -> dict[str, Any]:
    """Register a merchant or change one (hash secret, IPN URL, name)."""
    sim = _sim(request)
    body = await _json_object(request)
    current = sim.config.merchants.get(tmn_code)
    if current is not None:
        body = {"hash_secret": current.hash_secret, "ipn_url": current.ipn_url, "name": current.name, **body}
    body.pop("tmn_code", None)
    try:
        merchant = merchant_from_json(body, tmn_code)
    except ValueError as exc:
        raise ControlError(422, str(exc)) from None
    sim.config.merchants[tmn_code] = merchant
    return merchant.public_view()


@get("/transactions")
async def list_transactions(request: Request) -> dict[str, Any]:
    params = request.query_params
    filters = {name: params.get(name) for name in ("tmn_code", "txn_ref", "state", "pay_day")}
    return {"items": _sim(request).ledger.records(**filters)}


@get("/ipn")
async def ipn_log(request: Request) -> dict[str, Any]:
    return {"items": _sim(request).ipn.entries(request.query_params.get("txn_ref"))}


@post("/ipn/release", status_code=200)
async def release_ipn(request: Request) -> dict[str, Any]:
    return {"released": _sim(request).ipn.release_held()}


@get("/api-calls")
async def api_call_log(request: Request) -> dict[str, Any]:
    return {"items": list(_sim(request).api_calls)}


@post("/reset", status_code=200)
async def reset(request: Request) -> dict[str, Any]:
    await _sim(request).reset()
    return {"status": "reset"}


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(config: SimConfig | None = None) -> Litestar:
    """Build the simulator; without `config` the `VNPAYSIM_*` environment is read."""
    sim = Simulator(config if config is not None else SimConfig.from_env())

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    control = Router(
        "/_sim",
        route_handlers=[
            get_config,
            put_config,
            list_merchants,
            put_merchant,
            list_transactions,
            ipn_log,
            release_ipn,
            api_call_log,
            reset,
        ],
    )
    return Litestar(
        route_handlers=[show_payment_page, choose_outcome, transaction_api, control, healthz],
        state=State({"vnpay": sim}),
        lifespan=[lifespan],
        exception_handlers={
            PageError: _handle_page_error,
            ControlError: _handle_control_error,
            HTTPException: _handle_http_exception,
        },
        openapi_config=None,
    )


app = create_app()
