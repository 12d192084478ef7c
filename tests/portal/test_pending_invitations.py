"""A partner's manager sees the invitations still waiting to be accepted, and only their partner's."""

from __future__ import annotations

import uuid

from agents.staff.models import Role
from tests.factories import create_partner, create_person, create_point


def test_a_manager_sees_pending_invitations_until_they_are_accepted(portal):
    partner, other = create_partner(), create_partner()
    point = create_point(partner)
    manager = portal()
    manager.sign_in(create_person((Role.partner_manager, partner, None)).email)
    rival = portal()
    rival.sign_in(create_person((Role.partner_manager, other, None)).email)
    email = f"cho-{uuid.uuid4().hex[:6]}@test.vn"
    invited = manager.post_form(
        "/partner/staff/invite",
        {"full_name": "Lê Thị Chờ", "email": email, "role": "agent_staff", "agent_point_id": str(point.id)},
    )
    assert invited.status_code == 201
    page = manager.get("/partner/staff").text
    assert f'data-invited="{email}"' in page and "Lê Thị Chờ" in page.split('data-testid="pending-invitations"')[1]
    assert f'data-invited="{email}"' not in rival.get("/partner/staff").text
