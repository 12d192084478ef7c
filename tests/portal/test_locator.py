"""Where to go: the public locator's JSON contract, its page, and the public list of procedures."""

from __future__ import annotations

import uuid

import pytest

from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures import publishing
from portal.core.db import unit_of_work
from tests.factories import create_partner, setup_scope

ALWAYS = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
NEVER = {day: [] for day in ALWAYS}
KEYS = {"id", "name", "address", "ward", "lat", "lon", "distance_km", "open_now", "hours_today"}
HOAN_KIEM = (21.0287, 105.8524)  # the lake


@pytest.fixture(scope="module")
def network():
    """A procedure only these points offer: near the lake (open), Cầu Giấy (closed all week), Hà Đông; one
    pending point nearer still, and one approved point that does not offer it."""
    code = f"5.{uuid.uuid4().int % 1_000_000:06d}"
    partner = create_partner(name="Đối tác Tra cứu")
    with unit_of_work(setup_scope()) as session:
        procedure = publishing.publish(
            session,
            None,
            {
                "code": code,
                "name": f"Thủ tục thử nghiệm tra cứu {code}",
                "field_code": "TEST",
                "field_name": "Thử nghiệm",
                "handled_by": "UBND phường",
                "processing_days": 3,
                "fee_rules": {"kind": "fixed", "amount_vnd": 20000},
                "required_documents": [
                    {"name": "Tờ khai", "original": True, "mandatory": True, "count": 1},
                    {"name": "CCCD", "original": False, "mandatory": True, "count": 1},
                ],
                "form_schema": {"type": "object", "properties": {}},
            },
        ).procedure
        publishing.enable_procedures(session, None, partner.id, [code])
        rows = [
            ("Điểm Bờ Hồ", 21.0290, 105.8520, "Phường Hoàn Kiếm", ALWAYS, AgentPointStatus.approved, True),
            ("Điểm Cầu Giấy", 21.0336, 105.7985, "Phường Cầu Giấy", NEVER, AgentPointStatus.approved, True),
            ("Điểm Hà Đông", 20.9700, 105.7760, "Phường Hà Đông", ALWAYS, AgentPointStatus.approved, True),
            ("Điểm chờ duyệt", 21.0288, 105.8523, "Phường Hoàn Kiếm", ALWAYS, AgentPointStatus.pending, True),
            ("Điểm không nhận", 21.0289, 105.8522, "Phường Hoàn Kiếm", ALWAYS, AgentPointStatus.approved, False),
        ]
        for name, lat, lon, ward, week, status, offers in rows:
            point = AgentPoint(
                partner_id=partner.id,
                code=f"L{uuid.uuid4().hex[:6]}",
                name=name,
                address=f"1 phố {name}",
                ward=ward,
                latitude=lat,
                longitude=lon,
                weekly_hours=week,
                closed_on_public_holidays=False,
                status=status,
            )
            session.add(point)
            session.flush()
            if offers:
                session.add(PointProcedure(partner_id=partner.id, agent_point_id=point.id, procedure_id=procedure.id))
    return code


def test_the_nearest_points_offering_the_procedure_come_first_with_the_exact_fields(portal, network):
    answer = portal().get(
        "/api/v1/public/points", params={"lat": HOAN_KIEM[0], "lon": HOAN_KIEM[1], "procedure": network}
    )
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert set(answer.json()) == {"items"} and all(set(item) == KEYS for item in items)
    assert [i["name"] for i in items] == [
        "Điểm Bờ Hồ",
        "Điểm Cầu Giấy",
        "Điểm Hà Đông",
    ]  # neither pending nor not offering
    distances = [i["distance_km"] for i in items]
    assert distances == sorted(distances) and distances[0] < 0.1 and 5.3 < distances[1] < 5.9
    first, second = items[0], items[1]
    assert first["open_now"] is True and first["hours_today"] == [{"opens": "00:00", "closes": "23:59"}]
    assert second["open_now"] is False and second["hours_today"] == []
    assert first["ward"] == "Phường Hoàn Kiếm" and (first["lat"], first["lon"]) == (21.0290, 105.8520)


def test_the_limit_keeps_the_nearest(portal, network):
    items = (
        portal()
        .get("/api/v1/public/points", params={"lat": 20.97, "lon": 105.776, "procedure": network, "limit": 1})
        .json()["items"]
    )
    assert [i["name"] for i in items] == ["Điểm Hà Đông"]
    assert (
        portal()
        .get("/api/v1/public/points", params={"lat": 21, "lon": 105.8, "procedure": network, "limit": 0})
        .status_code
        == 400
    )


def test_an_unknown_procedure_is_404_and_a_place_outside_vietnam_is_422_each_saying_why(portal, network):
    unknown = portal().get("/api/v1/public/points", params={"lat": 21.0, "lon": 105.8, "procedure": "9.999999"})
    assert unknown.status_code == 404 and "9.999999" in unknown.json()["message"]
    paris = portal().get("/api/v1/public/points", params={"lat": 48.85, "lon": 2.35, "procedure": network})
    assert paris.status_code == 422
    assert paris.json()["field_errors"] == {"lat": "Tọa độ nằm ngoài Việt Nam", "lon": "Tọa độ nằm ngoài Việt Nam"}
    assert portal().get(
        "/api/v1/public/points", params={"lat": "nan", "lon": 105.8, "procedure": network}
    ).status_code in (400, 422)


def test_the_locator_page_finds_points_from_a_ward_or_an_address(portal, network):
    by_ward = portal().get("/locator", params={"procedure": network, "ward": "00070"})
    assert by_ward.status_code == 200 and by_ward.text.index("Điểm Bờ Hồ") < by_ward.text.index("Điểm Cầu Giấy")
    assert "Đang mở cửa" in by_ward.text and "đường thẳng" in by_ward.text and "Sơ đồ phường, xã" in by_ward.text
    by_address = portal().get("/locator", params={"procedure": network, "address": "5 Trần Thái Tông, Cầu Giấy"})
    assert by_address.text.index("Điểm Cầu Giấy") < by_address.text.index("Điểm Bờ Hồ")
    lost = portal().get("/locator", params={"procedure": network, "address": "nowhere at all"})
    assert lost.status_code == 422 and "Không tìm thấy phường, xã trong địa chỉ" in lost.text
    assert 'src="/static/vendor/leaflet/leaflet.js"' in by_ward.text and "unpkg" not in by_ward.text


def test_the_wards_schematic_is_served_as_geojson(portal):
    geo = portal().get("/api/v1/public/wards").json()
    assert geo["type"] == "FeatureCollection" and geo["schematic"] is True and len(geo["features"]) == 126


def test_the_procedures_page_lists_fee_time_documents_and_points_and_is_searchable_in_both_languages(portal, network):
    client = portal()
    page = client.get("/procedures", params={"q": "thu nghiem tra cuu"})  # no diacritics typed
    assert page.status_code == 200 and network in page.text
    assert "20.000 đ" in page.text and "3 ngày làm việc" in page.text and "Tờ khai" in page.text
    assert "Điểm Bờ Hồ" in page.text and "Điểm chờ duyệt" not in page.text and "Điểm không nhận" not in page.text
    assert "1.001193" not in page.text
    assert "Không có thủ tục nào khớp" in client.get("/procedures", params={"q": "zzzz"}).text
    client.http.cookies.set("lang", "en")
    english = client.get("/procedures", params={"q": network}).text
    assert "Processing time" in english and "3 working days" in english and "Find a point near you" in english
