"""Who may do what in the agent network: the one place that says it.

Services, route guards (portal/auth/guards.py) and templates (`can(actor,
"file_dossiers")`) all ask here; none of them compares roles itself.

A permission is held *at a partner* (and some at a point), or *at the center*:

- `can(actor, permission)` asks whether the person may do it at all: at one of
  their own partners, or at the center for the center's permissions.
- `can(actor, permission, partner_id=...)` asks about one partner, including
  the reach the center's administrators have over every partner;
  `point_id=...` narrows it to one agent point.

Objects outside a person's reach are not "forbidden" but "not found": the
services turn a refusal about a *specific object* into NotFound, so nobody can
tell another partner's dossier from one that does not exist.
"""

from __future__ import annotations

import enum
import uuid
from typing import TYPE_CHECKING

from agents.staff.models import Role
from portal.core.errors import PermissionDenied

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agents.staff.actor import Actor, Grant


class Permission(str, enum.Enum):
    work_for_partner = "work_for_partner"  # any role at the partner: its pages, its scope
    file_dossiers = "file_dossiers"  # file at a point: staff and leads assigned there
    see_dossiers = "see_dossiers"  # a point's dossiers (staff, leads there) or all of a partner's (its manager)
    see_partner_figures = "see_partner_figures"  # the partner's dashboard and exports
    register_points = "register_points"
    manage_points = "manage_points"  # a point's week, closures and offered procedures: the partner's manager
    manage_staff = "manage_staff"  # invite, re-role, deactivate the partner's people
    unlock_sign_in = (
        "unlock_sign_in"  # lift a sign-in lock: a manager for the partner's people, a lead for their point's
    )
    manage_api_clients = "manage_api_clients"  # register and revoke the partner's systems
    see_network = "see_network"  # every partner, read only: the center's people
    approve_points = "approve_points"  # approve or close any point
    manage_partners = "manage_partners"  # onboard, suspend, reinstate partners; configure their SSO
    manage_center_roles = "manage_center_roles"  # invite and run the center's own people
    read_audit_log = "read_audit_log"  # auditors only: those who change things don't read the record
    request_refunds = "request_refunds"  # ask to give a paid fee back: who sees the dossier, or the center's admins
    approve_refunds = "approve_refunds"  # decide a refund request: the center's admins only
    see_settlement = "see_settlement"  # money collected and refunded: the partner's manager, the center
    resend_dossiers = "resend_dossiers"  # send again a dossier the city never took (forward_failed)
    # Mark the city's request for more documents as the point's miss (counted against the point's quality).
    mark_supplement_cause = "mark_supplement_cause"
    review_ratings = "review_ratings"  # leave a flagged rating out of the averages (or count it again)
    manage_wards = "manage_wards"  # the wards' reference data (population): the center's admins
    answer_problem_reports = "answer_problem_reports"  # reply to citizens' problem reports
    open_back_office = "open_back_office"  # the piccolo back office at /admin: the center's admins, auditors read-only
    change_in_back_office = "change_in_back_office"  # its edits and domain forms: the center's admins only
    publish_procedures = "publish_procedures"  # publish catalogue versions, import them, enable them per partner


POINT_ROLES = frozenset({Role.agent_staff, Role.point_lead})

# Held at a partner by these roles there.
_AT_PARTNER: dict[Permission, frozenset[Role]] = {
    Permission.work_for_partner: frozenset(Role) - {Role.center_admin, Role.auditor},
    Permission.file_dossiers: POINT_ROLES,
    Permission.see_dossiers: POINT_ROLES | {Role.partner_manager},
    Permission.see_partner_figures: frozenset({Role.partner_manager}),
    Permission.register_points: frozenset({Role.partner_manager}),
    Permission.manage_points: frozenset({Role.partner_manager}),
    Permission.manage_staff: frozenset({Role.partner_manager}),
    Permission.unlock_sign_in: frozenset({Role.partner_manager, Role.point_lead}),
    Permission.manage_api_clients: frozenset({Role.partner_manager}),
    Permission.request_refunds: POINT_ROLES | {Role.partner_manager},
    Permission.see_settlement: frozenset({Role.partner_manager}),
    Permission.answer_problem_reports: frozenset({Role.partner_manager}),
    Permission.mark_supplement_cause: POINT_ROLES | {Role.partner_manager},
}
# Which of those the center's roles hold over any partner, when that partner is named.
_CENTER_REACH: dict[Permission, frozenset[Role]] = {
    Permission.manage_staff: frozenset({Role.center_admin}),
    Permission.unlock_sign_in: frozenset({Role.center_admin}),
    Permission.manage_api_clients: frozenset({Role.center_admin}),
    Permission.request_refunds: frozenset({Role.center_admin}),
    Permission.see_settlement: frozenset({Role.center_admin, Role.auditor}),
    Permission.answer_problem_reports: frozenset({Role.center_admin}),
    Permission.mark_supplement_cause: frozenset({Role.center_admin}),
}
# Held at the center.
_AT_CENTER: dict[Permission, frozenset[Role]] = {
    Permission.see_network: frozenset({Role.center_admin, Role.auditor}),
    Permission.approve_points: frozenset({Role.center_admin}),
    Permission.manage_partners: frozenset({Role.center_admin}),
    Permission.manage_center_roles: frozenset({Role.center_admin}),
    Permission.read_audit_log: frozenset({Role.auditor}),
    Permission.approve_refunds: frozenset({Role.center_admin}),
    Permission.resend_dossiers: frozenset({Role.center_admin}),
    Permission.review_ratings: frozenset({Role.center_admin}),
    Permission.manage_wards: frozenset({Role.center_admin}),
    Permission.open_back_office: frozenset({Role.center_admin, Role.auditor}),
    Permission.change_in_back_office: frozenset({Role.center_admin}),
    Permission.publish_procedures: frozenset({Role.center_admin}),
}
CENTER_PERMISSIONS = frozenset(_AT_CENTER)

# Held at a point by these roles there; the roles left out hold it at every point of their partner.
_AT_POINT: dict[Permission, frozenset[Role]] = {
    Permission.file_dossiers: POINT_ROLES,
    Permission.see_dossiers: POINT_ROLES,
    Permission.unlock_sign_in: frozenset({Role.point_lead}),
    Permission.request_refunds: POINT_ROLES,
    Permission.mark_supplement_cause: POINT_ROLES,
}

MESSAGES: dict[Permission, str] = {
    Permission.work_for_partner: "Trang này dành cho nhân viên đối tác",
    Permission.file_dossiers: "Bạn không được phân công tại điểm này",
    Permission.see_dossiers: "Không tìm thấy hồ sơ",
    Permission.see_partner_figures: "Trang này dành cho quản lý đối tác",
    Permission.register_points: "Chỉ quản lý đối tác được đăng ký điểm",
    Permission.manage_points: "Chỉ quản lý đối tác được sửa giờ mở cửa và thủ tục của điểm",
    Permission.manage_staff: "Chỉ quản lý đối tác hoặc Trung tâm được quản lý tài khoản",
    Permission.unlock_sign_in: "Chỉ trưởng điểm, quản lý đối tác hoặc Trung tâm được mở khóa đăng nhập",
    Permission.manage_api_clients: "Chỉ quản lý đối tác hoặc Trung tâm được quản lý ứng dụng kết nối API",
    Permission.see_network: "Trang này dành cho Trung tâm",
    Permission.approve_points: "Chỉ Trung tâm được duyệt hoặc đóng điểm",
    Permission.manage_partners: "Chỉ Trung tâm được quản lý đối tác",
    Permission.manage_center_roles: "Chỉ Trung tâm được quản lý vai trò Trung tâm",
    Permission.read_audit_log: "Trang này dành cho kiểm toán viên",
    Permission.request_refunds: "Không tìm thấy giao dịch thanh toán",
    Permission.approve_refunds: "Chỉ quản trị viên Trung tâm được duyệt hoàn tiền",
    Permission.see_settlement: "Trang này dành cho quản lý đối tác và Trung tâm",
    Permission.resend_dossiers: "Chỉ Trung tâm được gửi lại hồ sơ",
    Permission.mark_supplement_cause: "Không tìm thấy hồ sơ",
    Permission.review_ratings: "Chỉ quản trị viên Trung tâm được loại đánh giá",
    Permission.manage_wards: "Chỉ quản trị viên Trung tâm được sửa dữ liệu phường, xã",
    Permission.answer_problem_reports: "Trang này dành cho quản lý đối tác và Trung tâm",
    Permission.open_back_office: "Không tìm thấy trang",
    Permission.change_in_back_office: "Kiểm toán viên chỉ được xem trang quản trị",
    Permission.publish_procedures: "Chỉ quản trị viên Trung tâm được công bố thủ tục",
}


def can(
    actor: Actor | None,
    permission: Permission | str,
    *,
    partner_id: uuid.UUID | None = None,
    point_id: uuid.UUID | None = None,
) -> bool:
    """May `actor` do this (at this partner / point, when named)? See the module docstring."""
    if actor is None:
        return False
    permission = Permission(permission)
    if permission in _AT_CENTER:
        return any(g.partner_id is None and g.role in _AT_CENTER[permission] for g in actor.grants)
    if partner_id is not None and any(
        g.partner_id is None and g.role in _CENTER_REACH.get(permission, ()) for g in actor.grants
    ):
        return True
    roles = _AT_PARTNER[permission]
    point_roles = _AT_POINT.get(permission, frozenset())
    for g in actor.grants:
        if g.partner_id is None or g.role not in roles:
            continue
        if partner_id is not None and g.partner_id != partner_id:
            continue
        if point_id is not None and g.role in point_roles and g.agent_point_id != point_id:
            continue
        return True
    return False


def require(
    actor: Actor | None,
    permission: Permission | str,
    *,
    partner_id: uuid.UUID | None = None,
    point_id: uuid.UUID | None = None,
    message: str | None = None,
) -> None:
    """Raise PermissionDenied (403) unless `can(...)`."""
    permission = Permission(permission)
    if not can(actor, permission, partner_id=partner_id, point_id=point_id):
        raise PermissionDenied(message or MESSAGES[permission])


def may_unlock_sign_in(actor: Actor, grants: Iterable[Grant]) -> bool:
    """May `actor` lift the sign-in lock of the person holding `grants`?

    A partner manager (and the center's admin) for anyone at that partner; a
    point lead for the staff of their own point only (not another lead, not a
    manager); the center's own people, the center's admin.
    """
    for g in grants:
        if g.partner_id is None:
            if can(actor, Permission.manage_center_roles):
                return True
            continue
        point_id = g.agent_point_id if g.role is Role.agent_staff else None
        if point_id is None:
            if can(actor, Permission.manage_staff, partner_id=g.partner_id):
                return True
            continue
        if can(actor, Permission.unlock_sign_in, partner_id=g.partner_id, point_id=point_id):
            return True
    return False


def points_for(actor: Actor, permission: Permission, partner_id: uuid.UUID) -> set[uuid.UUID] | None:
    """The points of `partner_id` where the actor holds `permission`: a set, or None for all of them."""
    permission = Permission(permission)
    point_roles = _AT_POINT.get(permission, frozenset())
    points: set[uuid.UUID] = set()
    for g in actor.grants:
        if g.partner_id != partner_id or g.role not in _AT_PARTNER[permission]:
            continue
        if g.role not in point_roles:
            return None  # a partner-wide role: every point
        if g.agent_point_id is not None:
            points.add(g.agent_point_id)
    return points
