"""The center's pages for a partner's file: approve, suspend with a reason its people see, restore, the procedures."""

import pytest
from sqlalchemy import select

from agents.procedures import publishing
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from tests.factories import PASSWORD, create_counter, create_person, setup_scope


@pytest.fixture
def center(portal):
    admin = create_person((Role.center_admin, None, None))
    client = portal()
    client.sign_in(admin.email, PASSWORD)
    return client


def test_a_suspension_by_the_page_is_told_to_the_partners_people_at_sign_in(portal, center):
    partner, _, staff = create_counter("Bưu điện trang tạm dừng")
    page = center.get(f"/center/partners/{partner.id}")
    assert page.status_code == 200 and partner.code in page.text
    no_reason = center.post_form(f"/center/partners/{partner.id}/suspend", {"reason": " "})
    assert no_reason.status_code == 422
    suspended = center.post_form(f"/center/partners/{partner.id}/suspend", {"reason": "Thu phí sai quy định"})
    assert suspended.status_code == 200 and "Thu phí sai quy định" in suspended.text
    refused = portal().sign_in(staff.email, PASSWORD)
    assert "Thu phí sai quy định" in refused.text
    restored = center.post_form(f"/center/partners/{partner.id}/restore", {})
    assert restored.status_code == 200
    assert portal().sign_in(staff.email, PASSWORD).status_code == 302


def test_the_center_ticks_the_procedures_a_partner_files(center):
    partner, *_ = create_counter("Bưu điện trang thủ tục")
    saved = center.post_form(f"/center/partners/{partner.id}/procedures", {"procedure": ["1.001193", "2.000815"]})
    assert saved.status_code == 200
    with read_only(setup_scope()) as session:
        assert publishing.enabled_codes(session, partner.id) == {"1.001193", "2.000815"}
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "partner.procedures_changed").order_by(AuditEvent.seq.desc())
        ).first()
        assert entry.detail["enabled"] == [] and "1.004222" in entry.detail["disabled"]


def test_a_partners_manager_cannot_reach_the_centers_pages(portal):
    partner, *_ = create_counter("Bưu điện trang quyền")
    manager = create_person((Role.partner_manager, partner, None))
    client = portal()
    client.sign_in(manager.email, PASSWORD)
    assert client.get(f"/center/partners/{partner.id}").status_code in (403, 404)
    assert client.post_form(f"/center/partners/{partner.id}/suspend", {"reason": "x"}).status_code in (403, 404)
