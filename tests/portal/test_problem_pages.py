"""Problem report pages: the citizen files and follows one; the manager answers on their page."""

from __future__ import annotations

from agents.problems import service
from agents.staff.models import Role
from tests.factories import create_counter, create_person, file_birth_registration


def test_a_citizen_reports_a_problem_and_follows_the_answer(portal):
    partner, point, staff = create_counter()
    dossier = file_birth_registration(staff, point, owner_phone="0912000444")
    citizen = portal()
    form = citizen.get(f"/problems/new?code={dossier.tracking_code}")
    assert form.status_code == 200 and dossier.tracking_code in form.text
    unknown = citizen.post_form("/problems", {"code": "HN-0000-0000", "phone": "0912000444", "kind": "rudeness"})
    assert unknown.status_code == 404 and "Không tìm thấy hồ sơ với mã và số điện thoại này" in unknown.text
    no_kind = citizen.post_form("/problems", {"code": dossier.tracking_code, "phone": "0912000444"})
    assert no_kind.status_code == 422 and "Chọn loại sự cố" in no_kind.text
    filed = citizen.post_form(
        "/problems",
        {
            "code": dossier.tracking_code,
            "phone": "0912000444",
            "kind": "no_receipt",
            "description": "Không có biên nhận",
        },
    )
    assert filed.status_code == 303  # to the report's own page, whose link the citizen keeps
    filed = citizen.get(filed.headers["location"])
    assert filed.status_code == 200 and 'data-testid="follow-link"' in filed.text
    assert "Đang chờ trả lời" in filed.text and "Không có biên nhận" in filed.text
    reference = filed.text.split('<span class="code">')[1].split("<")[0]

    manager = create_person((Role.partner_manager, partner, None))
    boss = portal()
    boss.sign_in(manager.email)
    listing = boss.get("/partner/problems")
    assert listing.status_code == 200 and f'data-report="{reference}"' in listing.text
    report_id = listing.text.split("/partner/problems/")[1].split("/replies")[0]
    empty = boss.post_form(f"/partner/problems/{report_id}/replies", {"body": ""})
    assert empty.status_code == 422
    done = boss.post_form(f"/partner/problems/{report_id}/replies", {"body": "Đã gửi lại biên nhận", "resolve": "1"})
    assert done.status_code == 200 and 'data-testid="resolved"' in done.text

    followed = citizen.get(f"/problems/{reference}?token={service.follow_token(reference)}")
    assert followed.status_code == 200 and "Đã giải quyết" in followed.text and "Đã gửi lại biên nhận" in followed.text
    assert citizen.get(f"/problems/{reference}?token=forged").status_code == 404
    assert f'data-report="{reference}"' not in citizen.get("/partner/problems").text  # to the sign-in page
    admin = create_person((Role.center_admin, None, None))
    center = portal()
    center.sign_in(admin.email)
    assert f'data-report="{reference}"' in center.get("/center/problems").text
