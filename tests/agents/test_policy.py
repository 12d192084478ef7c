"""Who may do what: the one policy that services, guards and templates ask (no database)."""

import uuid

import pytest

from agents import policy
from agents.policy import Permission
from agents.staff.actor import Actor, Grant
from agents.staff.models import Role
from portal.core.errors import PermissionDenied

PARTNER, OTHER = uuid.uuid4(), uuid.uuid4()
POINT, OTHER_POINT = uuid.uuid4(), uuid.uuid4()


def _person(*grants: Grant) -> Actor:
    return Actor(uuid.uuid4(), "a@b.vn", "Người Thử", grants)


STAFF = _person(Grant(Role.agent_staff, PARTNER, POINT))
LEAD = _person(Grant(Role.point_lead, PARTNER, POINT))
MANAGER = _person(Grant(Role.partner_manager, PARTNER, None))
ADMIN = _person(Grant(Role.center_admin, None, None))
AUDITOR = _person(Grant(Role.auditor, None, None))

# What each person may do somewhere (the navigation shows exactly these).
EXPECTED = {
    "staff": {
        Permission.work_for_partner,
        Permission.file_dossiers,
        Permission.see_dossiers,
        Permission.request_refunds,
        Permission.mark_supplement_cause,
    },
    "lead": {
        Permission.work_for_partner,
        Permission.file_dossiers,
        Permission.see_dossiers,
        Permission.request_refunds,
        Permission.unlock_sign_in,
        Permission.mark_supplement_cause,
    },
    "manager": {
        Permission.work_for_partner,
        Permission.see_dossiers,
        Permission.see_partner_figures,
        Permission.register_points,
        Permission.manage_points,
        Permission.manage_staff,
        Permission.unlock_sign_in,
        Permission.manage_api_clients,
        Permission.request_refunds,
        Permission.see_settlement,
        Permission.mark_supplement_cause,
        Permission.answer_problem_reports,
    },
    "admin": {
        Permission.see_network,
        Permission.approve_points,
        Permission.manage_partners,
        Permission.manage_center_roles,
        Permission.approve_refunds,
        Permission.resend_dossiers,
        Permission.review_ratings,
        Permission.manage_wards,
        Permission.open_back_office,
        Permission.change_in_back_office,
        Permission.publish_procedures,
    },
    "auditor": {Permission.see_network, Permission.read_audit_log, Permission.open_back_office},
}
PEOPLE = {"staff": STAFF, "lead": LEAD, "manager": MANAGER, "admin": ADMIN, "auditor": AUDITOR}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_each_role_holds_exactly_its_permissions(who):
    held = {p for p in Permission if policy.can(PEOPLE[who], p)}
    assert held == EXPECTED[who]


def test_nobody_signed_in_may_do_anything():
    assert not any(policy.can(None, p) for p in Permission)


def test_partner_permissions_hold_only_at_the_persons_own_partner():
    assert policy.can(MANAGER, Permission.manage_staff, partner_id=PARTNER)
    assert not policy.can(MANAGER, Permission.manage_staff, partner_id=OTHER)
    assert not policy.can(STAFF, Permission.file_dossiers, partner_id=OTHER)


def test_point_roles_act_at_their_point_and_the_manager_at_every_point():
    assert policy.can(STAFF, Permission.file_dossiers, partner_id=PARTNER, point_id=POINT)
    assert not policy.can(STAFF, Permission.file_dossiers, partner_id=PARTNER, point_id=OTHER_POINT)
    assert not policy.can(STAFF, Permission.see_dossiers, partner_id=PARTNER, point_id=OTHER_POINT)
    assert policy.can(MANAGER, Permission.see_dossiers, partner_id=PARTNER, point_id=OTHER_POINT)
    assert not policy.can(MANAGER, Permission.file_dossiers, partner_id=PARTNER, point_id=POINT)
    assert policy.points_for(STAFF, Permission.see_dossiers, PARTNER) == {POINT}
    assert policy.points_for(MANAGER, Permission.see_dossiers, PARTNER) is None  # all of them
    assert policy.points_for(MANAGER, Permission.file_dossiers, PARTNER) == set()


def test_the_center_admin_reaches_a_partners_people_and_systems_only_when_that_partner_is_named():
    assert not policy.can(ADMIN, Permission.manage_staff)  # no partner pages of their own
    assert policy.can(ADMIN, Permission.manage_staff, partner_id=OTHER)
    assert policy.can(ADMIN, Permission.manage_api_clients, partner_id=OTHER)
    assert not policy.can(ADMIN, Permission.file_dossiers, partner_id=OTHER)
    assert not policy.can(ADMIN, Permission.read_audit_log)  # separation of duties


def test_a_refusal_says_why():
    with pytest.raises(PermissionDenied, match="kiểm toán viên"):
        policy.require(ADMIN, Permission.read_audit_log)
    with pytest.raises(PermissionDenied, match="nói riêng"):
        policy.require(STAFF, Permission.manage_staff, message="nói riêng")
    policy.require(AUDITOR, "read_audit_log")  # templates name permissions by their value


def test_a_sign_in_lock_is_lifted_by_the_persons_point_lead_or_manager_and_nobody_else():
    staff_here = [Grant(Role.agent_staff, PARTNER, POINT)]
    staff_elsewhere = [Grant(Role.agent_staff, PARTNER, OTHER_POINT)]
    a_lead = [Grant(Role.point_lead, PARTNER, POINT)]
    a_manager = [Grant(Role.partner_manager, PARTNER, None)]
    assert policy.may_unlock_sign_in(LEAD, staff_here)
    assert not policy.may_unlock_sign_in(LEAD, staff_elsewhere)
    assert not policy.may_unlock_sign_in(LEAD, a_lead) and not policy.may_unlock_sign_in(LEAD, a_manager)
    assert all(policy.may_unlock_sign_in(MANAGER, g) for g in (staff_here, staff_elsewhere, a_lead, a_manager))
    assert not policy.may_unlock_sign_in(MANAGER, [Grant(Role.agent_staff, OTHER, OTHER_POINT)])
    assert not policy.may_unlock_sign_in(STAFF, staff_here)
    assert policy.may_unlock_sign_in(ADMIN, staff_elsewhere)
    assert policy.may_unlock_sign_in(ADMIN, [Grant(Role.auditor, None, None)])
    assert not policy.may_unlock_sign_in(AUDITOR, staff_here)
