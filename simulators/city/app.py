"""ASGI app of the city one-stop system simulator (Litestar).

Run it with ``uvicorn simulators.city.app:app`` or ``python -m simulators.city``.
The HTTP contract is documented in ``docs/city-api.md``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from litestar import Litestar, Request, Response, Router, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from .catalogue import PROCEDURES
from .config import RUNTIME_KNOBS, SimConfig, coerce_knob
from .engine import SimError, Simulator
from .validation import ValidationFailed, validate_submission

MAX_IDEMPOTENCY_KEY = 100
MAX_REQUEST_ID = 200


class ApiError(Exception):
    """Raised anywhere in a request to answer with a JSON error body."""

    def __init__(self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("error"))
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


def _error(status_code: int, error: str, message: str | None = None, **headers: str) -> ApiError:
    body: dict[str, Any] = {"error": error}
    if message:
        body["message"] = message
    return ApiError(status_code, body, {k.replace("_", "-"): v for k, v in headers.items()})


def _handle_api_error(_: Request, exc: ApiError) -> Response[Any]:
    return Response(exc.body, status_code=exc.status_code, headers=exc.headers)


def _handle_sim_error(_: Request, exc: SimError) -> Response[Any]:
    return Response(exc.body, status_code=exc.status_code)


def _handle_validation(_: Request, exc: ValidationFailed) -> Response[Any]:
    return Response(exc.as_body(), status_code=422)


_HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "server_error",
}


def _handle_http_exception(_: Request, exc: HTTPException) -> Response[Any]:
    """Framework errors (unknown route, wrong method...) in the same JSON shape as ours."""
    body = {"error": _HTTP_ERROR_CODES.get(exc.status_code, "http_error"), "message": exc.detail}
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def _sim(request: Request) -> Simulator:
    return request.app.state.sim


async def _json_body(request: Request, *, allow_empty: bool = False) -> Any:
    raw = await request.body()
    if allow_empty and not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _error(400, "invalid_json", "the request body is not valid JSON") from None


async def _optional_object(request: Request) -> dict[str, Any]:
    body = await _json_body(request, allow_empty=True)
    if not isinstance(body, dict):
        raise ApiError(
            422, {"error": "invalid_body", "message": "the request body must be a JSON object", "field": None}
        )
    return body


def _optional_note(body: dict[str, Any], name: str = "GhiChu") -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, {"error": "invalid_type", "message": f"{name} must be a string", "field": name})
    return value.strip() or None


# -- gates in front of /oauth and /api ------------------------------------------


async def _fault_gate(request: Request) -> None:
    """Latency, outage and random 503s, in that order."""
    sim = _sim(request)
    config = sim.config
    if config.latency_ms > 0:
        await asyncio.sleep(config.latency_ms / 1000)
    if config.down:
        raise _error(503, "temporarily_unavailable", "the city system is down for maintenance", Retry_After="1")
    if sim.draw_fault(config.error_rate):
        raise _error(503, "temporarily_unavailable", "the city system is overloaded, try again", Retry_After="1")


async def _api_gate(request: Request) -> None:
    await _fault_gate(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    client_id = _sim(request).client_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if client_id is None:
        raise ApiError(
            401,
            {"error": "invalid_token", "error_description": "missing, unknown or expired access token"},
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.client_id = client_id


# -- OAuth2 ------------------------------------------------------------------------

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status_code: int, error: str, description: str) -> ApiError:
    headers = dict(_NO_STORE)
    if status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="city-sim"'
    return ApiError(status_code, {"error": error, "error_description": description}, headers)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _oauth_error(401, "invalid_client", "malformed HTTP Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _oauth_error(401, "invalid_client", "malformed HTTP Basic credentials")
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


@post("/token", status_code=200)
async def token_endpoint(request: Request) -> Response[Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _oauth_error(400, "invalid_request", "use application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise _oauth_error(400, "invalid_request", "the body is not UTF-8") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _oauth_error(400, "invalid_request", f"parameter {name} is repeated")
        form[name] = value

    basic = _basic_credentials(request.headers.get("authorization", ""))
    if basic is not None and ("client_secret" in form or ("client_id" in form and form["client_id"] != basic[0])):
        raise _oauth_error(400, "invalid_request", "use only one client authentication method")
    client_id, secret = basic if basic is not None else (form.get("client_id", ""), form.get("client_secret", ""))
    clients = _sim(request).config.clients
    expected = clients.get(client_id)
    if not client_id or expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
        raise _oauth_error(401, "invalid_client", "client authentication failed")

    grant_type = form.get("grant_type")
    if not grant_type:
        raise _oauth_error(400, "invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")

    token, ttl = _sim(request).issue_token(client_id)
    body = {"access_token": token, "token_type": "Bearer", "expires_in": max(1, math.ceil(ttl))}
    return Response(body, status_code=200, headers=_NO_STORE)


# -- /api/v1 -------------------------------------------------------------------------


@get("/procedures")
async def list_procedures() -> dict[str, Any]:
    return {"items": [procedure.as_item() for procedure in PROCEDURES]}


@post("/dossiers")
async def submit_dossier(request: Request) -> Response[Any]:
    sim = _sim(request)
    if sim.config.submit_latency_ms > 0:
        await asyncio.sleep(sim.config.submit_latency_ms / 1000)
    client_id: str = request.state.client_id
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        raise _error(400, "missing_idempotency_key", "the Idempotency-Key header is required")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise _error(
            400, "invalid_idempotency_key", f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters"
        )
    payload = await _json_body(request)

    record = sim.lookup_replay(client_id, key, payload)
    if record is not None:
        return Response(record.body, status_code=200, headers={"Idempotent-Replayed": "true"})

    cleaned = validate_submission(payload)
    request_id = request.headers.get("x-request-id", "")[:MAX_REQUEST_ID] or None  # shown in /_sim/dossiers
    body = sim.create_dossier(client_id, key, payload, cleaned, request_id=request_id)
    if sim.draw_fault(sim.config.lost_response_rate):
        # The dossier exists, but the caller never learns it: only an
        # idempotent retry reveals the code.
        raise _error(503, "temporarily_unavailable", "the city system is overloaded, try again", Retry_After="1")
    return Response(body, status_code=201, headers={"Location": f"/api/v1/dossiers/{body['MaHoSo']}"})


@get("/dossiers")
async def find_dossier(request: Request) -> dict[str, Any]:
    partner_code = request.query_params.get("MaHoSoDoiTac")
    if not partner_code:
        raise _error(400, "missing_parameter", "query parameter MaHoSoDoiTac is required")
    return _sim(request).get_by_partner_code(request.state.client_id, partner_code).as_lookup()


@get("/dossiers/{ma_ho_so:str}")
async def get_dossier(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    return _sim(request).get(ma_ho_so, request.state.client_id).as_lookup()


@post("/dossiers/{ma_ho_so:str}/supplement", status_code=200)
async def supplement_dossier(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    sim = _sim(request)
    dossier = sim.get(ma_ho_so, request.state.client_id)
    note = _optional_note(await _optional_object(request))
    sim.supplement(dossier, note)
    return dossier.as_lookup()


@post("/dossiers/{ma_ho_so:str}/withdraw", status_code=200)
async def withdraw_dossier(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    sim = _sim(request)
    dossier = sim.get(ma_ho_so, request.state.client_id)
    body = await _optional_object(request)
    note = _optional_note(body, "LyDo") or _optional_note(body)
    sim.withdraw(dossier, note)
    return dossier.as_lookup()


# -- /_sim control endpoints (no auth, no faults) ------------------------------------


@get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return _sim(request).config.public_view()


@put("/config")
async def put_config(request: Request) -> dict[str, Any]:
    sim = _sim(request)
    body = await _optional_object(request)
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name not in RUNTIME_KNOBS:
            raise ApiError(
                400,
                {"error": "unknown_setting", "message": f"{name} cannot be changed at runtime", "field": name},
            )
        try:
            changes[name] = coerce_knob(name, value)
        except ValueError as exc:
            raise ApiError(422, {"error": "invalid_value", "message": str(exc), "field": name}) from None
    for name, value in changes.items():
        setattr(sim.config, name, value)
    return sim.config.public_view()


@get("/dossiers")
async def debug_dossiers(request: Request) -> dict[str, Any]:
    return {"items": [d.as_debug() for d in _sim(request).dossiers.values()]}


@get("/dossiers/{ma_ho_so:str}")
async def debug_dossier(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    return _sim(request).get(ma_ho_so).as_debug()


@post("/dossiers/{ma_ho_so:str}/advance", status_code=200)
async def advance_dossier(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    sim = _sim(request)
    dossier = sim.get(ma_ho_so)
    previous = dossier.status
    status = sim.advance(dossier)
    return {"MaHoSo": ma_ho_so, "TrangThaiHoSoTruoc": previous, "TrangThaiHoSo": status}


@post("/dossiers/{ma_ho_so:str}/status", status_code=200)
async def force_status(request: Request, ma_ho_so: FromPath[str]) -> dict[str, Any]:
    sim = _sim(request)
    dossier = sim.get(ma_ho_so)
    body = await _optional_object(request)
    status = body.get("TrangThaiHoSo")
    if isinstance(status, bool) or not isinstance(status, int) or not 1 <= status <= 10:
        raise ApiError(
            422,
            {"error": "invalid_status", "message": "TrangThaiHoSo must be an integer 1..10", "field": "TrangThaiHoSo"},
        )
    sim.force_status(dossier, status, _optional_note(body))
    return dossier.as_debug()


@get("/callbacks")
async def callback_log(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {"items": _sim(request).callbacks.entries(params.get("MaHoSo"), params.get("event_id"))}


@post("/tokens/expire", status_code=200)
async def expire_tokens(request: Request) -> dict[str, Any]:
    body = await _optional_object(request)
    token = body.get("access_token")
    if token is not None and not isinstance(token, str):
        raise ApiError(
            422, {"error": "invalid_type", "message": "access_token must be a string", "field": "access_token"}
        )
    return {"expired": _sim(request).expire_tokens(token)}


@post("/reset", status_code=200)
async def reset(request: Request) -> dict[str, Any]:
    sim = _sim(request)
    await sim.reset()
    return {"status": "reset", "config": sim.config.public_view()}


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# -- factory ---------------------------------------------------------------------------


def create_app(config: SimConfig | None = None) -> Litestar:
    """Build the simulator app; without ``config`` the ``CITYSIM_*`` environment is read."""
    sim = Simulator(config if config is not None else SimConfig.from_env())

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    oauth = Router("/oauth", route_handlers=[token_endpoint], before_request=_fault_gate)
    api = Router(
        "/api/v1",
        route_handlers=[
            list_procedures,
            submit_dossier,
            find_dossier,
            get_dossier,
            supplement_dossier,
            withdraw_dossier,
        ],
        before_request=_api_gate,
    )
    control = Router(
        "/_sim",
        route_handlers=[
            get_config,
            put_config,
            debug_dossiers,
            debug_dossier,
            advance_dossier,
            force_status,
            callback_log,
            expire_tokens,
            reset,
        ],
    )
    return Litestar(
        route_handlers=[oauth, api, control, healthz],
        state=State({"sim": sim}),
        lifespan=[lifespan],
        exception_handlers={
            ApiError: _handle_api_error,
            SimError: _handle_sim_error,
            ValidationFailed: _handle_validation,
            HTTPException: _handle_http_exception,
        },
        openapi_config=None,
    )


app = create_app()
