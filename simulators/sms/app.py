"""ASGI app of the brand-name SMS gateway simulator (Litestar).

Run it with ``python -m simulators.sms`` or ``uvicorn simulators.sms.app:app``.
The HTTP contract is documented in ``docs/sms-simulator.md``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, Router, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from .config import RUNTIME_KNOBS, SmsSimConfig, coerce_knob
from .engine import Simulator, SmsSimError


def _handle_sim_error(_: Request, exc: SmsSimError) -> Response[Any]:
    headers = {"Retry-After": "1"} if exc.status_code == 503 else None
    return Response(exc.body, status_code=exc.status_code, headers=headers)


_HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    500: "server_error",
}


def _handle_http_exception(_: Request, exc: HTTPException) -> Response[Any]:
    """Framework errors (unknown route, wrong method...) in the same JSON shape as ours."""
    body = {"error": _HTTP_ERROR_CODES.get(exc.status_code, "http_error"), "message": exc.detail}
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def _sim(request: Request) -> Simulator:
    return request.app.state.sim


async def _json_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if allow_empty and not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SmsSimError(400, "invalid_json", "the request body is not valid UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise SmsSimError(400, "invalid_body", "the request body must be a JSON object")
    return body


# -- gate in front of /api ------------------------------------------------------------


async def _api_gate(request: Request) -> None:
    """Latency, outage, random 503s, then the API key, in that order."""
    sim = _sim(request)
    config = sim.config
    if config.latency_ms > 0:
        await asyncio.sleep(config.latency_ms / 1000)
    if config.down:
        raise SmsSimError(503, "temporarily_unavailable", "the gateway is down for maintenance")
    if sim.draw_fault(config.error_rate):
        raise SmsSimError(503, "temporarily_unavailable", "the gateway is overloaded, try again")
    given = request.headers.get("x-api-key", "").strip().encode()
    account = None
    for candidate in config.accounts:
        if hmac.compare_digest(candidate.api_key.encode(), given):
            account = candidate
    if not given or account is None:
        raise SmsSimError(401, "invalid_api_key", "missing or unknown X-Api-Key")
    request.state.account = account


# -- /api/v1 ----------------------------------------------------------------------------


@post("/sms", status_code=200)
async def send_sms(request: Request) -> Response[Any]:
    sim = _sim(request)
    account = request.state.account
    body = await _json_object(request)
    replayed = sim.lookup_replay(account, body)
    if replayed is not None:
        return Response(replayed.as_answer(), status_code=200, headers={"Idempotent-Replayed": "true"})
    message = sim.accept(account, body)
    if sim.draw_fault(sim.config.lost_response_rate):
        # Accepted (and its report will come), but the caller never learns the id:
        # only a retry with the same RequestId reveals it.
        raise SmsSimError(503, "temporarily_unavailable", "the gateway is overloaded, try again")
    return Response(message.as_answer(), status_code=200)


@get("/sms/{sms_id:str}")
async def sms_status(request: Request, sms_id: FromPath[str]) -> dict[str, Any]:
    return _sim(request).get(sms_id, request.state.account).as_status()


# -- /_sim control endpoints (no auth, no faults) -----------------------------------------


@get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return _sim(request).config.public_view()


@put("/config")
async def put_config(request: Request) -> dict[str, Any]:
    sim = _sim(request)
    changes: dict[str, Any] = {}
    for name, value in (await _json_object(request, allow_empty=True)).items():
        if name not in RUNTIME_KNOBS:
            raise SmsSimError(400, "unknown_setting", f"{name} cannot be changed at runtime", name)
        try:
            changes[name] = coerce_knob(name, value)
        except ValueError as exc:
            raise SmsSimError(422, "invalid_value", str(exc), name) from None
    for name, value in changes.items():
        setattr(sim.config, name, value)
    return sim.config.public_view()


@get("/messages")
async def list_messages(request: Request) -> dict[str, Any]:
    params = request.query_params
    phone, request_id = params.get("Phone"), params.get("RequestId")
    items = [
        m.as_debug()
        for m in _sim(request).messages.values()
        if (phone is None or m.phone == phone) and (request_id is None or m.request_id == request_id)
    ]
    return {"items": items}


@get("/messages/{sms_id:str}")
async def get_message(request: Request, sms_id: FromPath[str]) -> dict[str, Any]:
    return _sim(request).get(sms_id).as_debug()


@post("/messages/{sms_id:str}/report", status_code=200)
async def force_report(request: Request, sms_id: FromPath[str]) -> dict[str, Any]:
    sim = _sim(request)
    message = sim.get(sms_id)
    body = await _json_object(request, allow_empty=True)
    error_code = body.get("ErrorCode")
    if error_code is not None and not isinstance(error_code, str):
        raise SmsSimError(422, "invalid_type", "ErrorCode must be a string", "ErrorCode")
    sim.finish(message, body.get("Status", "delivered"), error_code)
    return message.as_debug()


@get("/reports")
async def report_log(request: Request) -> dict[str, Any]:
    return {"items": _sim(request).reports.entries(request.query_params.get("SMSID"))}


@post("/reset", status_code=200)
async def reset(request: Request) -> dict[str, Any]:
    sim = _sim(request)
    await sim.reset()
    return {"status": "reset", "config": sim.config.public_view()}


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# -- factory -------------------------------------------------------------------------------


def create_app(config: SmsSimConfig | None = None) -> Litestar:
    """Build the simulator app; without ``config`` the ``SMSSIM_*`` environment is read."""
    sim = Simulator(config if config is not None else SmsSimConfig.from_env())

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    api = Router("/api/v1", route_handlers=[send_sms, sms_status], before_request=_api_gate)
    control = Router(
        "/_sim",
        route_handlers=[get_config, put_config, list_messages, get_message, force_report, report_log, reset],
    )
    return Litestar(
        route_handlers=[api, control, healthz],
        state=State({"sim": sim}),
        lifespan=[lifespan],
        exception_handlers={SmsSimError: _handle_sim_error, HTTPException: _handle_http_exception},
        openapi_config=None,
    )


app = create_app()
