"""The partner manager's page of a point: its week, temporary closures and offered procedures."""

from __future__ import annotations

from datetime import timedelta

from agents.points.hours import hanoi_now
from agents.staff.models import Role
from tests.factories import create_counter, create_partner, create_person


def _manager(portal, partner):
    person = create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản")
    client = portal()
    assert client.sign_in(person.email).status_code in (302, 303)
    return client


def test_the_manager_sets_the_week_a_closure_and_the_procedures_on_the_points_page(portal):
    partner, point, _ = create_counter()
    manager = _manager(portal, partner)
    url = f"/partner/points/{point.id}"
    assert manager.get("/partner/points").text.count(url) == 1
    sheet = manager.get(url)
    assert sheet.status_code == 200 and "Giờ mở cửa" in sheet.text and "1.001193" in sheet.text

    bad = manager.post_form(f"{url}/hours", {"mon_1_opens": "8:00", "mon_1_closes": "7:00"})
    assert bad.status_code == 422 and "Giờ đóng phải sau giờ mở" in bad.text
    saved = manager.post_form(
        f"{url}/hours", {"mon_1_opens": "7:30", "mon_1_closes": "17:00", "closed_on_public_holidays": "on"}
    )
    assert saved.status_code == 200 and "Đã lưu giờ mở cửa" in saved.text and 'value="07:30"' in saved.text

    today = hanoi_now().date()
    past = manager.post_form(
        f"{url}/closures",
        {"starts_on": (today - timedelta(days=1)).isoformat(), "ends_on": today.isoformat(), "reason": "Sửa"},
    )
    assert past.status_code == 422 and "Không thể tạm đóng cửa cho ngày đã qua" in past.text
    start = today + timedelta(days=3)
    closed = manager.post_form(
        f"{url}/closures", {"starts_on": start.strftime("%d/%m/%Y"), "ends_on": start.isoformat(), "reason": "Kiểm kê"}
    )
    assert closed.status_code == 200 and "Kiểm kê" in closed.text and start.strftime("%d/%m/%Y") in closed.text

    offered = manager.post_form(f"{url}/procedures", {"offer:1.001193": "on", "offer:2.000815": "on"})
    assert offered.status_code == 200 and offered.text.count("checked") >= 3  # two procedures + holidays box
    unknown = manager.post_form(f"{url}/procedures", {"offer:9.999999": "on"})
    assert unknown.status_code == 422 and "9.999999" in unknown.text


def test_english_readers_get_the_page_in_english(portal):
    partner, point, _ = create_counter()
    manager = _manager(portal, partner)
    manager.http.cookies.set("lang", "en")
    page = manager.get(f"/partner/points/{point.id}").text
    assert "Opening hours" in page and "Monday" in page and "Temporarily closed" in page


def test_another_partners_manager_and_the_points_staff_get_no_page(portal):
    _, point, staff = create_counter()
    stranger = _manager(portal, create_partner())
    assert stranger.get(f"/partner/points/{point.id}").status_code == 404
    clerk = portal()
    clerk.sign_in(staff.email)
    assert clerk.get(f"/partner/points/{point.id}").status_code == 403
