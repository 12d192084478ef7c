"""Specification of the city one-stop system simulator (see docs/city-api.md).

The simulator runs in uvicorn on a free local port and is spoken to over real
HTTP, exactly as the portal's client code will.  A second tiny ASGI server
receives the status callbacks so that their order and signatures can be
checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from simulators.city.app import create_app
from simulators.city.config import SimConfig

CLIENT_ID = "portal-test"
CLIENT_SECRET = "portal-test-secret"
OTHER_CLIENT_ID = "other-partner"
OTHER_CLIENT_SECRET = "other-partner-secret"
WEBHOOK_SECRET = "test-webhook-secret"

CITY_CODE = re.compile(r"^H01\.22-\d{6}-\d{6}$")
VN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


# -- servers ------------------------------------------------------------------------


class ServerThread:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a background thread."""

    def __init__(self, app: Any) -> None:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP,
        # and without it keep-alive requests stall ~40 ms (Nagle + delayed ACK).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class CallbackReceiver:
    """A minimal ASGI app standing in for the portal's callback endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.failures_left = 0  # answer this many requests with 500 before accepting

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures_left = 0

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            failing = self.failures_left > 0
            if failing:
                self.failures_left -= 1
            else:
                self.calls.append({"path": scope["path"], "headers": headers, "raw": body, "json": json.loads(body)})
        status = 500 if failing else 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def events(self, ma_ho_so: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [c["json"] for c in self.calls if ma_ho_so is None or c["json"]["MaHoSo"] == ma_ho_so]

    def raw_calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.calls)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[CallbackReceiver, str]]:
    app = CallbackReceiver()
    with ServerThread(app) as server:
        yield app, server.url + "/city/callbacks"


@pytest.fixture(scope="module")
def city_url() -> Iterator[str]:
    config = SimConfig(
        clients={CLIENT_ID: CLIENT_SECRET, OTHER_CLIENT_ID: OTHER_CLIENT_SECRET},
        webhook_secret=WEBHOOK_SECRET,
        step_seconds=0,  # the tests drive progress through /_sim
        callback_retry_base=0.05,
        seed=20251123,
    )
    with ServerThread(create_app(config)) as server:
        yield server.url


@pytest.fixture
def city(city_url: str, receiver: tuple[CallbackReceiver, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=city_url, timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        receiver[0].reset()
        yield client


@pytest.fixture
def callbacks(receiver: tuple[CallbackReceiver, str]) -> CallbackReceiver:
    return receiver[0]


@pytest.fixture
def callback_url(receiver: tuple[CallbackReceiver, str]) -> str:
    return receiver[1]


# -- helpers -------------------------------------------------------------------------


def get_token(city: httpx.Client, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    response = city.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dossier_body(callback_url: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "MaHoSoDoiTac": "DL-0001",
        "MaTTHC": "1.004194",
        "TenTTHC": "Đăng ký tạm trú",
        "ChuHoSo": "Nguyễn Thị Lan",
        "SoDinhDanh": "001190012345",
        "NgaySinh": "1990-04-12",
        "SoDienThoai": "0912345678",
        "DiaChi": "Số 12 ngõ 34 Láng Hạ, Đống Đa, Hà Nội",
        "NguoiNop": {"HoTen": "Trần Văn Bình", "SoDinhDanh": "001085067890", "SoDienThoai": "0987654321"},
        "TrichYeuHoSo": "Đăng ký tạm trú tại Đống Đa",
        "HinhThuc": 2,
        "DuLieuBieuMau": {"NoiTamTru": "Đống Đa", "ThoiHan": "12 tháng"},
        "TaiLieuNop": [{"TenTaiLieu": "Tờ khai thay đổi thông tin cư trú (CT01)"}],
        "DonViTiepNhan": "Điểm DVC Láng Hạ",
    }
    if callback_url:
        body["callback_url"] = callback_url
    body.update(overrides)
    return body


def submit(city: httpx.Client, token: str, body: dict[str, Any], key: str = "key-0001") -> httpx.Response:
    return city.post("/api/v1/dossiers", json=body, headers={**bearer(token), "Idempotency-Key": key})


def submit_ok(city: httpx.Client, token: str, body: dict[str, Any], key: str = "key-0001") -> str:
    response = submit(city, token, body, key)
    assert response.status_code == 201, response.text
    return response.json()["MaHoSo"]


def advance(city: httpx.Client, ma_ho_so: str) -> httpx.Response:
    return city.post(f"/_sim/dossiers/{ma_ho_so}/advance")


def configure(city: httpx.Client, **knobs: Any) -> None:
    response = city.put("/_sim/config", json=knobs)
    assert response.status_code == 200, response.text


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def settled_deliveries(city: httpx.Client, ma_ho_so: str, at_least: int) -> list[dict[str, Any]]:
    """The simulator's delivery records of a dossier, once it has made `at_least` and finished every one.

    A receiver sees a callback before the simulator sees the answer and records
    it, so its record is read only when it says delivered or failed; and once no
    delivery is pending, no further callback can arrive.
    """

    def settled() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = city.get("/_sim/callbacks", params={"MaHoSo": ma_ho_so}).json()["items"]
        done = len(items) >= at_least and all(d["state"] in ("delivered", "failed") for d in items)
        return items if done else None

    return wait_until(settled)


def assert_signed(call: dict[str, Any]) -> None:
    """Verify a callback the way an integrator should (docs/city-api.md, "Verifying")."""
    headers = call["headers"]
    assert headers["content-type"] == "application/json"
    timestamp = headers["x-city-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + call["raw"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-city-signature"], "sha256=" + expected)


def working_days_between(start: date, end: date) -> int:
    """Number of Monday-Friday days in (start, end]."""
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)


# -- OAuth2 -------------------------------------------------------------------------------


def test_token_is_issued_to_a_client_authenticated_with_http_basic(city: httpx.Client) -> None:
    response = city.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert response.headers["cache-control"] == "no-store"
    assert city.get("/api/v1/procedures", headers=bearer(body["access_token"])).status_code == 200


def test_token_is_issued_to_a_client_authenticated_with_form_fields(city: httpx.Client) -> None:
    response = city.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    "credentials",
    [(CLIENT_ID, "wrong-secret"), ("stranger", CLIENT_SECRET), (CLIENT_ID, "")],
    ids=["wrong-secret", "unknown-client", "empty-secret"],
)
def test_token_is_refused_to_a_client_that_fails_authentication(
    city: httpx.Client, credentials: tuple[str, str]
) -> None:
    response = city.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_token_without_any_client_credentials_is_refused(city: httpx.Client) -> None:
    response = city.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_only_the_client_credentials_grant_is_supported(city: httpx.Client) -> None:
    response = city.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "a", "password": "b"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic cG9ydGFsLXRlc3Q6eA=="])
def test_api_requires_a_valid_bearer_token(city: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = city.get("/api/v1/procedures", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_token_stops_working_once_it_expires(city: httpx.Client) -> None:
    ttl = 2.0
    configure(city, token_ttl=ttl)
    asked_at = time.monotonic()
    token = get_token(city)
    assert city.get("/api/v1/procedures", headers=bearer(token)).status_code == 200 or (
        time.monotonic() - asked_at >= ttl  # a very busy machine: the token may already be over
    )
    response = wait_until(
        lambda: (r := city.get("/api/v1/procedures", headers=bearer(token))).status_code == 401 and r,
        timeout=ttl + 10,
    )
    assert time.monotonic() - asked_at >= ttl, "refused before its lifetime was over"
    assert response.json()["error"] == "invalid_token"
    assert city.get("/api/v1/procedures", headers=bearer(get_token(city))).status_code == 200


# -- procedures ------------------------------------------------------------------------------


def test_procedure_catalogue_lists_the_hanoi_procedures_with_days_and_fees(city: httpx.Client) -> None:
    response = city.get("/api/v1/procedures", headers=bearer(get_token(city)))
    assert response.status_code == 200
    items = {item["MaTTHC"]: item for item in response.json()["items"]}
    assert set(items) == {
        "1.001193", "1.004222", "1.004194", "1.001612", "2.000815",
        "2.000884", "1.000894", "1.000656", "2.001417",
    }  # fmt: skip
    assert items["2.001417"]["TenTTHC"] == "Cấp phiếu lý lịch tư pháp"
    assert (items["2.001417"]["SoNgayXuLy"], items["2.001417"]["LePhi"]) == (10, 200000)
    assert (items["1.004222"]["SoNgayXuLy"], items["1.004222"]["LePhi"]) == (7, 20000)
    assert items["1.001193"]["TenLinhVuc"] == "Hộ tịch"
    for item in items.values():
        assert set(item) >= {"MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "SoNgayXuLy", "LePhi"}


# -- submission (DongBoHoSoMC) --------------------------------------------------------------------


def test_submission_creates_a_new_dossier_with_a_city_code_and_due_date(city: httpx.Client) -> None:
    token = get_token(city)
    response = submit(city, token, dossier_body(MaTTHC="2.001417", TenTTHC="Cấp phiếu lý lịch tư pháp"))
    assert response.status_code == 201
    body = response.json()
    assert CITY_CODE.match(body["MaHoSo"])
    assert body["MaHoSoDoiTac"] == "DL-0001"
    assert body["TrangThaiHoSo"] == 1
    assert VN_ISO.match(body["NgayTiepNhan"]) and VN_ISO.match(body["NgayHenTra"])
    received = datetime.fromisoformat(body["NgayTiepNhan"])
    due = datetime.fromisoformat(body["NgayHenTra"])
    assert due.weekday() < 5, "the due date never falls on a weekend"
    assert working_days_between(received.date(), due.date()) == 10  # SoNgayXuLy of 2.001417
    assert body["MaHoSo"].split("-")[1] == received.strftime("%y%m%d")


def test_same_idempotency_key_replays_the_first_answer_without_a_second_dossier(city: httpx.Client) -> None:
    token = get_token(city)
    first = submit(city, token, dossier_body(), key="retry-me")
    again = submit(city, token, dossier_body(), key="retry-me")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert len(city.get("/_sim/dossiers").json()["items"]) == 1


def test_same_idempotency_key_with_a_different_body_is_a_conflict(city: httpx.Client) -> None:
    token = get_token(city)
    assert submit(city, token, dossier_body(), key="k-1").status_code == 201
    response = submit(city, token, dossier_body(ChuHoSo="Lê Văn Cường"), key="k-1")
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_key_reused"
    assert len(city.get("/_sim/dossiers").json()["items"]) == 1


def test_submission_requires_an_idempotency_key(city: httpx.Client) -> None:
    response = city.post("/api/v1/dossiers", json=dossier_body(), headers=bearer(get_token(city)))
    assert response.status_code == 400
    assert response.json()["error"] == "missing_idempotency_key"
    too_long = submit(city, get_token(city), dossier_body(), key="x" * 101)
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"SoDinhDanh": "00119001234"}, "invalid_id_number", "SoDinhDanh"),
        ({"SoDinhDanh": "00119001234A"}, "invalid_id_number", "SoDinhDanh"),
        ({"SoDinhDanh": 1190012345}, "invalid_id_number", "SoDinhDanh"),
        ({"NguoiNop": {"HoTen": "Trần Văn Bình", "SoDinhDanh": "123"}}, "invalid_id_number", "NguoiNop.SoDinhDanh"),
        ({"MaTTHC": "9.999999"}, "unknown_procedure", "MaTTHC"),
        ({"ChuHoSo": ""}, "missing_field", "ChuHoSo"),
        ({"MaHoSoDoiTac": None}, "missing_field", "MaHoSoDoiTac"),
        ({"NgaySinh": "12/04/1990"}, "invalid_date", "NgaySinh"),
        ({"callback_url": "ftp://example.org/x"}, "invalid_url", "callback_url"),
    ],
)
def test_invalid_submissions_are_rejected_with_the_offending_field(
    city: httpx.Client, overrides: dict[str, Any], error: str, field: str
) -> None:
    response = submit(city, get_token(city), dossier_body(**overrides))
    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["field"]) == (error, field)
    assert body["message"]
    assert city.get("/_sim/dossiers").json()["items"] == []


def test_malformed_json_is_a_bad_request(city: httpx.Client) -> None:
    response = city.post(
        "/api/v1/dossiers",
        content=b'{"MaHoSoDoiTac": "DL-1", ',
        headers={**bearer(get_token(city)), "Idempotency-Key": "bad-json", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_a_partner_code_can_only_be_submitted_once(city: httpx.Client) -> None:
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body(), key="a")
    response = submit(city, token, dossier_body(), key="b")
    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_partner_code"
    assert response.json()["MaHoSo"] == ma_ho_so


# -- lookup (TraCuuHoSo) ---------------------------------------------------------------------------


def test_dossier_can_be_looked_up_by_city_code_and_by_partner_code(city: httpx.Client) -> None:
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body(MaHoSoDoiTac="DL-7"))
    by_code = city.get(f"/api/v1/dossiers/{ma_ho_so}", headers=bearer(token))
    by_partner = city.get("/api/v1/dossiers", params={"MaHoSoDoiTac": "DL-7"}, headers=bearer(token))
    assert by_code.status_code == 200 and by_partner.status_code == 200
    body = by_code.json()
    assert by_partner.json() == body
    assert (body["MaHoSo"], body["MaHoSoDoiTac"], body["MaTTHC"]) == (ma_ho_so, "DL-7", "1.004194")
    assert body["TrangThaiHoSo"] == 1
    assert body["NgayTra"] is None
    assert [(e["seq"], e["TrangThaiHoSo"]) for e in body["LichSu"]] == [(1, 1)]
    assert VN_ISO.match(body["LichSu"][0]["ThoiGian"]) and body["LichSu"][0]["GhiChu"]


def test_lookup_of_an_unknown_or_foreign_dossier_is_not_found(city: httpx.Client) -> None:
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body())
    other = get_token(city, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)
    for response in (
        city.get("/api/v1/dossiers/H01.22-000000-000000", headers=bearer(token)),
        city.get("/api/v1/dossiers", params={"MaHoSoDoiTac": "nope"}, headers=bearer(token)),
        city.get(f"/api/v1/dossiers/{ma_ho_so}", headers=bearer(other)),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


# -- progression and callbacks ------------------------------------------------------------------------


def test_forced_progression_sends_signed_callbacks_in_order(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body(callback_url, MaHoSoDoiTac="DL-42"))

    steps = [advance(city, ma_ho_so) for _ in range(4)]
    assert [r.json()["TrangThaiHoSo"] for r in steps] == [2, 4, 9, 10]
    finished = advance(city, ma_ho_so)
    assert finished.status_code == 409 and finished.json()["error"] == "invalid_state"

    lookup = city.get(f"/api/v1/dossiers/{ma_ho_so}", headers=bearer(token)).json()
    assert lookup["TrangThaiHoSo"] == 10
    assert VN_ISO.match(lookup["NgayTra"])
    assert [e["TrangThaiHoSo"] for e in lookup["LichSu"]] == [1, 2, 4, 9, 10]

    log = settled_deliveries(city, ma_ho_so, at_least=5)
    events = callbacks.events(ma_ho_so)
    assert len(events) == 5, "each change is delivered exactly once"
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["TrangThaiHoSo"] for e in events] == [1, 2, 4, 9, 10]
    assert [e["event_id"] for e in events] == [e["event_id"] for e in lookup["LichSu"]]
    for event in events:
        assert event["MaHoSo"] == ma_ho_so and event["MaHoSoDoiTac"] == "DL-42"
        assert VN_ISO.match(event["ThoiGian"]) and event["GhiChu"]
    for call in callbacks.raw_calls():
        assert call["path"] == "/city/callbacks"
        assert_signed(call)

    assert [(d["state"], d["attempts"], d["last_response_code"]) for d in log] == [("delivered", 1, 204)] * 5


def test_automatic_progression_reaches_result_returned(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    configure(city, step_seconds=0.1)
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body(callback_url))
    wait_until(lambda: city.get(f"/api/v1/dossiers/{ma_ho_so}", headers=bearer(token)).json()["TrangThaiHoSo"] == 10)
    events = wait_until(lambda: len(callbacks.events(ma_ho_so)) == 5 and callbacks.events(ma_ho_so))
    assert [e["TrangThaiHoSo"] for e in events] == [1, 2, 4, 9, 10]


def test_failed_callbacks_are_retried_until_accepted(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    callbacks.failures_left = 2
    ma_ho_so = submit_ok(city, get_token(city), dossier_body(callback_url))
    [delivery] = settled_deliveries(city, ma_ho_so, at_least=1)
    assert [e["seq"] for e in callbacks.events(ma_ho_so)] == [1]
    assert (delivery["state"], delivery["attempts"], delivery["last_response_code"]) == ("delivered", 3, 204)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 204]


def test_duplicate_knob_delivers_every_event_twice(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    configure(city, duplicate_callbacks=True)
    ma_ho_so = submit_ok(city, get_token(city), dossier_body(callback_url))
    advance(city, ma_ho_so)
    settled_deliveries(city, ma_ho_so, at_least=4)
    events = callbacks.events(ma_ho_so)
    ids = [e["event_id"] for e in events]
    assert len(ids) == 4 and len(set(ids)) == 2
    assert all(ids.count(event_id) == 2 for event_id in ids)
    assert sorted(e["seq"] for e in events) == [1, 1, 2, 2]


def test_out_of_order_knob_delivers_a_dossiers_callbacks_newest_first(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    configure(city, out_of_order=True, out_of_order_delay=0.3)
    ma_ho_so = submit_ok(city, get_token(city), dossier_body(callback_url))
    for _ in range(3):
        advance(city, ma_ho_so)
    events = wait_until(lambda: len(callbacks.events(ma_ho_so)) == 4 and callbacks.events(ma_ho_so))
    assert [e["seq"] for e in events] == [4, 3, 2, 1]


def test_supplement_request_waits_for_documents_then_processing_continues(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    configure(city, supplement_rate=1.0)
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body(callback_url))
    supplement_url = f"/api/v1/dossiers/{ma_ho_so}/supplement"

    assert [advance(city, ma_ho_so).json()["TrangThaiHoSo"] for _ in range(2)] == [2, 4]
    early = city.post(supplement_url, headers=bearer(token))
    assert early.status_code == 409 and early.json()["error"] == "invalid_state"

    assert advance(city, ma_ho_so).json()["TrangThaiHoSo"] == 5
    supplied = city.post(supplement_url, json={"GhiChu": "Đã bổ sung giấy xác nhận chỗ ở"}, headers=bearer(token))
    assert supplied.status_code == 200
    assert supplied.json()["TrangThaiHoSo"] == 4
    assert supplied.json()["LichSu"][-1]["GhiChu"] == "Đã bổ sung giấy xác nhận chỗ ở"

    assert advance(city, ma_ho_so).json()["TrangThaiHoSo"] == 9, "additional documents are requested at most once"
    events = wait_until(lambda: len(callbacks.events(ma_ho_so)) == 6 and callbacks.events(ma_ho_so))
    assert [e["TrangThaiHoSo"] for e in events] == [1, 2, 4, 5, 4, 9]


def test_refuse_knob_ends_the_dossier_at_intake(city: httpx.Client) -> None:
    configure(city, refuse_rate=1.0)
    ma_ho_so = submit_ok(city, get_token(city), dossier_body())
    assert advance(city, ma_ho_so).json()["TrangThaiHoSo"] == 3
    assert advance(city, ma_ho_so).status_code == 409


def test_withdrawal_is_allowed_only_before_processing_ends(city: httpx.Client) -> None:
    token = get_token(city)
    ma_ho_so = submit_ok(city, token, dossier_body())
    advance(city, ma_ho_so)
    withdrawn = city.post(f"/api/v1/dossiers/{ma_ho_so}/withdraw", json={"LyDo": "Nộp nhầm"}, headers=bearer(token))
    assert withdrawn.status_code == 200
    assert withdrawn.json()["TrangThaiHoSo"] == 7
    again = city.post(f"/api/v1/dossiers/{ma_ho_so}/withdraw", headers=bearer(token))
    assert again.status_code == 409 and again.json()["error"] == "invalid_state"


def test_forcing_a_status_records_it_and_sends_a_callback(
    city: httpx.Client, callbacks: CallbackReceiver, callback_url: str
) -> None:
    ma_ho_so = submit_ok(city, get_token(city), dossier_body(callback_url))
    response = city.post(f"/_sim/dossiers/{ma_ho_so}/status", json={"TrangThaiHoSo": 8, "GhiChu": "Dừng theo yêu cầu"})
    assert response.status_code == 200 and response.json()["TrangThaiHoSo"] == 8
    events = wait_until(lambda: len(callbacks.events(ma_ho_so)) == 2 and callbacks.events(ma_ho_so))
    assert (events[1]["TrangThaiHoSo"], events[1]["GhiChu"]) == (8, "Dừng theo yêu cầu")
    assert city.post(f"/_sim/dossiers/{ma_ho_so}/status", json={"TrangThaiHoSo": 11}).status_code == 422


# -- fault knobs --------------------------------------------------------------------------------------


def test_down_knob_makes_the_api_unavailable_until_it_recovers(city: httpx.Client) -> None:
    token = get_token(city)
    configure(city, down=True)
    for response in (
        city.get("/api/v1/procedures", headers=bearer(token)),
        city.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)),
        submit(city, token, dossier_body()),
    ):
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
        assert response.headers["retry-after"] == "1"
    assert city.get("/healthz").json() == {"status": "ok"}
    assert city.get("/_sim/dossiers").json()["items"] == [], "nothing is processed during an outage"

    configure(city, down=False)
    assert city.get("/api/v1/procedures", headers=bearer(token)).status_code == 200
    assert submit(city, token, dossier_body()).status_code == 201


def test_error_rate_knob_answers_503(city: httpx.Client) -> None:
    token = get_token(city)
    configure(city, error_rate=1.0)
    response = city.get("/api/v1/procedures", headers=bearer(token))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    configure(city, error_rate=0.0)
    assert city.get("/api/v1/procedures", headers=bearer(token)).status_code == 200


def test_lost_response_knob_creates_the_dossier_and_a_retry_reveals_it(city: httpx.Client) -> None:
    token = get_token(city)
    configure(city, lost_response_rate=1.0)
    assert submit(city, token, dossier_body(), key="lost").status_code == 503
    configure(city, lost_response_rate=0.0)
    retry = submit(city, token, dossier_body(), key="lost")
    assert retry.status_code == 200 and retry.headers["idempotent-replayed"] == "true"
    assert CITY_CODE.match(retry.json()["MaHoSo"])


def test_latency_knob_delays_api_answers(city: httpx.Client) -> None:
    token = get_token(city)
    configure(city, latency_ms=300)
    started = time.monotonic()
    assert city.get("/api/v1/procedures", headers=bearer(token)).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    city.get("/healthz")
    assert time.monotonic() - started < 0.3, "control endpoints are never delayed"


def test_runtime_config_rejects_unknown_or_invalid_knobs(city: httpx.Client) -> None:
    assert city.put("/_sim/config", json={"webhook_secret": "x"}).status_code == 400
    assert city.put("/_sim/config", json={"error_rate": 2}).status_code == 422
    config = city.get("/_sim/config").json()
    assert config["error_rate"] == 0 and config["step_seconds"] == 0 and config["seed"] == 20251123
