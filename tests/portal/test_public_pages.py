"""Citizens: track a dossier by code and phone, rate it once when it is done; the API and callbacks."""

import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from agents.city.callbacks import sign
from agents.city.wire import CityUpdate
from agents.dossiers import city_status
from agents.dossiers.models import CityStatus
from agents.ratings.links import rating_token
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.clamd import portal_clamd  # noqa: F401
from tests.factories import (
    create_partner,
    create_person,
    create_point,
    create_staff,
    ensure_procedures,
    file_birth_registration,
    refresh_figures,
    reload_dossier,
)


@pytest.fixture(scope="module")
def filed():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Điểm Hàng Bài")
    staff = create_staff(point, partner)
    return partner, point, staff, file_birth_registration(staff, point, owner_phone="0912000111")


def _report_status(dossier, status: int, seq: int) -> None:
    with unit_of_work(Scope.network("test: city reports", actor_label="city system")) as session:
        city_status.apply_city_update(
            session,
            CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), tracking_code=dossier.tracking_code),
        )


def test_tracking_needs_the_code_and_the_owners_phone(portal, filed):
    *_, dossier = filed
    client = portal()
    found = client.post_form("/track", {"code": dossier.tracking_code.lower(), "phone": "0912 000 111"})
    assert found.status_code == 200
    assert "Điểm Hàng Bài" in found.text and "Đang chờ gửi hệ thống một cửa" in found.text
    assert "Nguyễn Văn An" not in found.text  # the owner's name is masked on the public page
    wrong_phone = client.post_form("/track", {"code": dossier.tracking_code, "phone": "0999999999"})
    unknown = client.post_form("/track", {"code": "HN-0000-0000", "phone": "0912000111"})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert "Không tìm thấy hồ sơ với mã và số điện thoại này" in wrong_phone.text


def test_a_citizen_rates_the_counter_now_and_the_result_once_the_city_has_finished(portal, filed):
    partner, point, _, dossier = filed
    client = portal()
    token = rating_token(dossier.tracking_code, dossier.submitted_at)
    link = f"/rate/{dossier.tracking_code}?token={token}"
    page = client.get(link)
    assert page.status_code == 200 and 'data-testid="rate-counter"' in page.text
    assert 'data-testid="rate-result"' not in page.text and "chỉ đánh giá được sau khi hồ sơ đã xử lý xong" in page.text
    assert client.get(f"/rate/{dossier.tracking_code}?token=forged").status_code == 404
    answers = {"token": token, "attitude": "very_satisfied", "timeliness": "on_time", "came_back": "0"}
    early = client.post_form(f"/rate/{dossier.tracking_code}", {**answers, "kind": "result", "stars": "5"})
    assert early.status_code == 409
    counter = client.post_form(f"/rate/{dossier.tracking_code}", {**answers, "kind": "counter", "stars": "5"})
    assert counter.status_code == 201 and 'data-testid="rated-counter"' in counter.text
    _report_status(dossier, CityStatus.processed, 5)
    bad = client.post_form(f"/rate/{dossier.tracking_code}", {"token": token, "kind": "result", "stars": "7"})
    assert bad.status_code == 422 and "Chọn từ 1 đến 5 sao" in bad.text
    assert "Cho biết bạn có phải quay lại không" in bad.text
    done = client.post_form(
        f"/rate/{dossier.tracking_code}", {**answers, "kind": "result", "stars": "4", "comment": "Nhanh"}
    )
    assert done.status_code == 201 and "Cảm ơn bạn đã đánh giá!" in done.text
    again = client.post_form(f"/rate/{dossier.tracking_code}", {**answers, "kind": "result", "stars": "1"})
    assert again.status_code == 409
    expired = rating_token(dossier.tracking_code, datetime(2020, 1, 1, tzinfo=UTC))
    gone = client.get(f"/rate/{dossier.tracking_code}?token={expired}")
    assert gone.status_code == 410 and "Liên kết đánh giá đã hết hạn" in gone.text

    manager = create_person((Role.partner_manager, partner, None))
    boss = portal()
    boss.sign_in(manager.email)
    refresh_figures(point)  # what the worker does after each commit: the page reads the rollups
    figures = boss.get("/partner/dashboard")
    assert figures.status_code == 200
    row = figures.text.split('data-point="Điểm Hàng Bài"')[1].split("</tr>")[0]
    assert 'data-testid="avg">4.50<' in row
    csv = boss.get("/partner/dashboard.csv").text
    assert "Điểm Hàng Bài" in csv and ",4.5" in csv


def _signed_post(client, payload: dict, secret: str, *, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    ts = str(timestamp or int(time.time()))
    return client.http.post(
        "/api/city/callbacks",
        content=body,
        headers={
            "content-type": "application/json",
            "x-city-timestamp": ts,
            "x-city-signature": sign(secret, ts, body),
        },
    )


def test_city_callbacks_must_be_signed_and_are_applied_once(portal, filed, settings):
    *_, dossier = filed
    client = portal()
    event = {
        "event_id": uuid.uuid4().hex,
        "seq": 9,
        "MaHoSo": None,
        "MaHoSoDoiTac": dossier.tracking_code,
        "TrangThaiHoSo": 10,
        "ThoiGian": "2026-11-23T10:00:00+07:00",
        "GhiChu": "Đã trả kết quả",
    }
    assert _signed_post(client, event, "not the secret").status_code == 401
    assert (
        _signed_post(client, event, settings.city.webhook_secret, timestamp=int(time.time()) - 3600).status_code == 401
    )
    applied = _signed_post(client, event, settings.city.webhook_secret)
    assert applied.status_code == 200 and applied.json() == {"result": "applied"}
    assert _signed_post(client, event, settings.city.webhook_secret).json() == {"result": "duplicate"}
    assert reload_dossier(dossier.id).city_status == 10
    for broken in (
        {"seq": "x"},
        {**event, "event_id": uuid.uuid4().hex, "ThoiGian": "2026-11-23T10:00:00"},
        {**event, "event_id": uuid.uuid4().hex, "seq": 2**70},
        {**event, "event_id": uuid.uuid4().hex, "MaHoSoDoiTac": ["x"]},
        {**event, "event_id": "e" * 200},
    ):
        assert _signed_post(client, broken, settings.city.webhook_secret).status_code == 400, broken


def test_the_json_api_files_and_reads_dossiers_for_a_signed_in_counter(portal, filed):
    _partner, point, staff, _ = filed
    client = portal()
    client.sign_in(staff.email)
    body = {
        "procedure_code": "2.000815",
        "agent_point_id": str(point.id),
        "idempotency_key": uuid.uuid4().hex,
        "citizen": {
            "owner_full_name": "Phạm Thị Dung",
            "owner_id_number": "001195000003",
            "owner_birth_date": "1995-01-01",
            "owner_phone": "0977000222",
            "owner_address": "5 Hàng Gai",
        },
        "form": {"document_name": "Bằng tốt nghiệp", "pages": 2, "copies": 3},
    }
    created = client.post_json("/api/v1/dossiers", body)
    assert created.status_code == 201, created.text
    again = client.post_json("/api/v1/dossiers", body)
    assert again.json()["id"] == created.json()["id"]
    read = client.get(f"/api/v1/dossiers/{created.json()['id']}")
    assert read.status_code == 200 and read.json()["state"] == "queued"
    invalid = client.post_json(
        "/api/v1/dossiers",
        {**body, "idempotency_key": uuid.uuid4().hex, "citizen": {**body["citizen"], "owner_id_number": "1"}},
    )
    assert invalid.status_code == 422
    assert invalid.json()["field_errors"] == {"owner_id_number": "Số CCCD phải gồm đúng 12 chữ số"}


def test_health_and_openapi_are_published(portal, portal_clamd):  # noqa: F811
    client = portal()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "scanner": "ok"}}
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/dossiers" in schema["paths"] and "/api/v1/track" in schema["paths"]


def test_health_says_when_clamd_does_not_answer_and_uploads_are_refused(portal, monkeypatch, tmp_path):
    import dataclasses

    from portal.controllers import health as health_module
    from portal.core.settings import ScannerSettings, get_settings

    nowhere = ScannerSettings(socket_path=tmp_path / "none.sock", timeout_seconds=1)
    moved = dataclasses.replace(get_settings(), scanner=nowhere)
    monkeypatch.setattr(health_module, "get_settings", lambda: moved)
    health = portal().get("/healthz").json()
    assert health["status"] == "degraded" and health["checks"]["scanner"].startswith("unreachable at unix:")


def test_english_is_one_click_away(portal):
    client = portal()
    client.get("/lang/en", follow_redirects=False)
    page = client.get("/track")
    assert "Track a dossier" in page.text and "Look up" in page.text


def test_a_report_that_moves_a_finished_dossier_back_is_answered_refused_and_shown_as_such(portal, filed, settings):
    _partner, point, staff, _ = filed
    dossier = file_birth_registration(staff, point, owner_phone="0912000222")
    for seq, status in enumerate([1, 2, 4, 9, 10], start=1):
        _report_status(dossier, status, seq)
    client = portal()
    backwards = {
        "event_id": uuid.uuid4().hex,
        "seq": 6,
        "MaHoSo": None,
        "MaHoSoDoiTac": dossier.tracking_code,
        "TrangThaiHoSo": 3,
        "ThoiGian": "2026-11-23T11:00:00+07:00",
        "GhiChu": "Không được tiếp nhận",
    }
    answered = _signed_post(client, backwards, settings.city.webhook_secret)
    assert answered.status_code == 200 and answered.json() == {"result": "refused"}
    assert reload_dossier(dossier.id).city_status == 10
    page = client.post_form("/track", {"code": dossier.tracking_code, "phone": "0912000222"}).text
    refused = page.split('data-testid="refused">')[1].split("</div>")[0]
    assert refused == "Không áp dụng: trạng thái này không thể đến sau 10 · Đã trả kết quả"
