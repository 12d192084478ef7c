"""What the center's back office (/admin) may change by a plain edit, and the audited write that does it.

The back office shows every table; it changes almost nothing directly. A column
is editable there only when it is on `EDITABLE` (an allow-list: a new column is
read-only until someone decides otherwise). Columns that a workflow owns say
which action to use instead (`OWNED_BY`); the rest are read-only, full stop.
An accepted edit is written here, through the ORM, in the caller's unit of work
(a network scope naming the person), with an `admin.row_edited` audit entry that
holds every changed column's value before and after.
See docs/decisions/0027-back-office-piccolo-admin.md.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from agents import policy
from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import Base
from portal.core.errors import NotFound, ValidationFailed

# table -> columns a center admin may change with a plain edit
EDITABLE: dict[str, frozenset[str]] = {
    "partners": frozenset({"name"}),
    "agent_points": frozenset({"name", "address", "ward", "opening_hours"}),
    "procedures": frozenset({"name", "field_name", "handled_by", "fee_note"}),
}
_MODELS: dict[str, type[Base]] = {"partners": Partner, "agent_points": AgentPoint, "procedures": Procedure}

# (table, column) or (table, "*") -> the domain action that owns it
OWNED_BY: dict[tuple[str, str], str] = {
    ("partners", "status"): "biểu mẫu «Tạm dừng đối tác» / «Khôi phục đối tác»",
    ("partners", "status_reason"): "biểu mẫu «Tạm dừng đối tác» / «Khôi phục đối tác»",
    ("agent_points", "status"): "biểu mẫu «Duyệt điểm» / «Đóng điểm»",
    ("dossiers", "*"): "quy trình hồ sơ (quầy, thành phố)",
    ("dossier_events", "*"): "quy trình hồ sơ (quầy, thành phố)",
    ("audit_events", "*"): "không ai: nhật ký chỉ được ghi thêm",
    ("payments", "*"): "quy trình thanh toán (VNPay, hoàn tiền)",
    ("refunds", "*"): "quy trình hoàn tiền",
    ("role_assignments", "*"): "trang «Tài khoản» (mời, đổi vai trò)",
    ("accounts", "*"): "trang «Tài khoản» (mời, đổi vai trò, khóa)",
    ("procedures", "published"): "công bố phiên bản thủ tục",
}


def owner_of(table: str, column: str) -> str | None:
    return OWNED_BY.get((table, column)) or OWNED_BY.get((table, "*"))


def refusal_for(table: str, columns: list[str]) -> str | None:
    """Why this edit is refused (one clear sentence), or None when every column may be edited."""
    allowed = EDITABLE.get(table, frozenset())
    for column in columns:
        if column in allowed:
            continue
        owner = owner_of(table, column)
        if owner:
            return f"Không sửa được «{column}» ở trang quản trị: cột này do {owner} quản lý."
        return f"Không sửa được «{column}» ở trang quản trị: cột này chỉ để xem."
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, datetime, date)):
        return str(value)
    return getattr(value, "value", value)


def apply_edit(session: Any, actor: Actor, table: str, row_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Change the allowed columns of one row, in the session's unit of work, on the record.

    Raises ValidationFailed naming the column when the edit is not allowed or a value
    does not fit, NotFound when the row is not there. Returns what changed.
    """
    policy.require(actor, Permission.change_in_back_office)
    refusal = refusal_for(table, list(values))
    if refusal:
        raise ValidationFailed(refusal)
    model = _MODELS[table]
    try:
        key = uuid.UUID(str(row_id))
    except ValueError as exc:
        raise NotFound("Không tìm thấy dòng này") from exc
    row = session.get(model, key)
    if row is None:
        raise NotFound("Không tìm thấy dòng này")
    changes: dict[str, list[Any]] = {}
    for column, value in values.items():
        column_type = model.__table__.c[column].type
        length = getattr(column_type, "length", None)
        text = "" if value is None else str(value).strip()
        if not text and not model.__table__.c[column].nullable:
            raise ValidationFailed(f"«{column}»: bắt buộc nhập", field_errors={column: "Bắt buộc nhập"})
        if length and len(text) > length:
            raise ValidationFailed(f"«{column}»: tối đa {length} ký tự", field_errors={column: "Quá dài"})
        before = getattr(row, column)
        after = text or None if model.__table__.c[column].nullable else text
        if before != after:
            changes[column] = [_plain(before), after]
            setattr(row, column, after)
    if changes:
        session.flush()
        audit.record(
            session,
            "admin.row_edited",
            table,
            row.id,
            partner_id=getattr(row, "partner_id", None) or (row.id if table == "partners" else None),
            detail={"via": "admin", "changes": changes},
        )
    return changes
