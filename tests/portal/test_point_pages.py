"""The partner manager's page of a point: its week, temporary closures, offered procedures and premises photo."""

from __future__ import annotations

import uuid
from datetime import timedelta

from agents.points.hours import hanoi_now
from agents.points.models import AgentPointStatus
from agents.procedures import publishing
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.scanner_daemon import EICAR
from tests.agents.documents.test_rules import a_pdf, an_image
from tests.clamd import portal_clamd  # noqa: F401
from tests.factories import create_counter, create_partner, create_person, create_point, offer_at_points, setup_scope


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


def _upload_photo(client, url: str, name: str, data: bytes, kind: str):  # type: ignore[no-untyped-def]
    return client.http.post(
        f"{url}/photo", data={"_csrf_token": client.csrf}, files=[("file", (name, data, kind))], follow_redirects=False
    )


def _locator_procedure(partner) -> str:  # type: ignore[no-untyped-def]
    """A procedure only this partner's points offer, so the locator lists exactly them."""
    code = f"5.{uuid.uuid4().int % 1_000_000:06d}"
    with unit_of_work(setup_scope()) as session:
        publishing.publish(
            session,
            None,
            {
                "code": code,
                "name": "Thủ tục tìm điểm có ảnh",
                "field_code": "X",
                "field_name": "X",
                "handled_by": "X",
                "processing_days": 1,
                "form_schema": {"type": "object", "properties": {}, "required": []},
            },
        )
        publishing.enable_procedures(session, None, partner.id, [code])
    offer_at_points(partner.id, [code])
    return code


def test_the_premises_photo_is_scanned_shown_to_the_center_when_approving_and_then_on_the_locator(
    portal,
    portal_clamd,  # noqa: F811
):
    partner = create_partner(name="Đối tác có ảnh trụ sở (thử)")
    point = create_point(partner, status=AgentPointStatus.pending, name="Điểm có ảnh (chờ duyệt)")
    manager = _manager(portal, partner)
    url = f"/partner/points/{point.id}"
    assert "Điểm chưa có ảnh trụ sở" in manager.get(url).text

    infected = _upload_photo(manager, url, "tru-so.png", b"\x89PNG\r\n\x1a\n" + EICAR, "image/png")
    assert infected.status_code == 422 and "Tệp chứa mã độc" in infected.text
    not_a_photo = _upload_photo(manager, url, "tru-so.pdf", a_pdf(1), "application/pdf")
    assert not_a_photo.status_code == 422 and "Điểm chưa có ảnh trụ sở" in not_a_photo.text

    picture = an_image("PNG")
    saved = _upload_photo(manager, url, "tru-so.png", picture, "image/png")
    assert saved.status_code == 200 and "Đã lưu ảnh trụ sở của điểm" in saved.text
    assert f'src="{url}/photo?v=' in saved.text
    own = manager.get(f"{url}/photo")
    assert (own.status_code, own.headers["content-type"], own.content) == (200, "image/png", picture)

    # The center sees it beside the approve button; the public does not while the point is pending.
    admin = create_person((Role.center_admin, None, None))
    center = portal()
    center.sign_in(admin.email)
    network = center.get("/center/network")
    assert f'src="/center/points/{point.id}/photo?v=' in network.text
    assert center.get(f"/center/points/{point.id}/photo").content == picture
    assert portal().get(f"/points/{point.id}/photo").status_code == 404
    assert manager.get(f"/center/points/{point.id}/photo").status_code in (403, 404)

    approved = center.post_form(f"/center/points/{point.id}/status", {"status": "approved"})
    assert approved.status_code == 200
    public = portal().get(f"/points/{point.id}/photo")
    assert (public.status_code, public.content) == (200, picture)
    found = portal().get("/locator", params={"procedure": _locator_procedure(partner), "ward": "00070"})
    assert f'src="/points/{point.id}/photo?v=' in found.text
