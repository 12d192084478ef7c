"""What a point's registration must say (no database)."""

from agents.points.rules import check_point

VALID = {
    "code": "BD-HK",
    "name": "Bưu điện Bờ Hồ",
    "address": "75 Đinh Tiên Hoàng",
    "ward": "Phường Hoàn Kiếm",
    "latitude": "21,0277",
    "longitude": "105.8525",
}


def test_a_complete_registration_in_hanoi_passes_and_its_coordinates_are_numbers():
    values, coords, errors = check_point({**VALID, "name": "  Bưu điện Bờ Hồ  "})
    assert errors == {}
    assert values["name"] == "Bưu điện Bờ Hồ" and values["opening_hours"] == ""
    assert coords == {"latitude": 21.0277, "longitude": 105.8525}  # a decimal comma is read too


def test_every_missing_or_wrong_field_is_named_at_once():
    _, _, errors = check_point({"code": "X", "latitude": "10.77", "longitude": "east"})
    assert errors == {
        "name": "Bắt buộc nhập",
        "address": "Bắt buộc nhập",
        "ward": "Bắt buộc nhập",
        "latitude": "Tọa độ nằm ngoài Hà Nội",
        "longitude": "Phải là số",
    }
