"""Procedure catalogue (city-owned reference data) and form checking."""

from __future__ import annotations

import uuid
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.procedures import rules
from agents.procedures.calendar import CalendarOverrides, WorkingCalendar
from agents.procedures.models import CalendarOverride, Procedure, ProcedureVersion
from portal.core.errors import NotFound
from portal.core.i18n import N_

REQUIRED = N_("Bắt buộc nhập")
MESSAGES = {
    "type": N_("Sai kiểu dữ liệu"),
    "format": N_("Không đúng định dạng"),
    "pattern": N_("Không đúng định dạng"),
    "enum": N_("Giá trị không hợp lệ"),
    "minimum": N_("Giá trị quá nhỏ"),
    "maximum": N_("Giá trị quá lớn"),
    "maxLength": N_("Quá dài"),
    "additionalProperties": N_("Trường không có trong biểu mẫu"),
}


def working_calendar(session: Session) -> WorkingCalendar:
    """Working days: the `holidays` package's Vietnam calendar with the center's overrides on top."""
    rows = session.scalars(select(CalendarOverride)).all()
    return WorkingCalendar(
        CalendarOverrides.of(
            days_off=[r.day for r in rows if r.kind == "day_off"],
            working_days=[r.day for r in rows if r.kind == "working_day"],
        )
    )


def list_published(session: Session) -> list[Procedure]:
    """The catalogue as it stands today: every published procedure with a version in force."""
    rows = session.scalars(select(Procedure).where(Procedure.published.is_(True)).order_by(Procedure.code))
    return [p for p in rows if p.current is not None]


def get_published(session: Session, code: str) -> Procedure:
    procedure = session.scalar(select(Procedure).where(Procedure.code == code, Procedure.published.is_(True)))
    if procedure is None or procedure.current is None:
        raise NotFound("Không có thủ tục mã %(code)s", params={"code": code})
    return procedure


def filed_version(session: Session, procedure_id: uuid.UUID, version_id: uuid.UUID | None) -> ProcedureVersion:
    """The version a dossier was filed under: what it is shown and priced by, whatever was published since."""
    if version_id is not None:
        version = session.get(ProcedureVersion, version_id)
        if version is not None:
            return version
    procedure = session.get(Procedure, procedure_id)  # a dossier from before versions: its procedure's first
    if procedure is None or not procedure.versions:
        raise NotFound("Không tìm thấy thủ tục của hồ sơ")
    return procedure.versions[0]


def coerce_form(schema: dict[str, Any], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn submitted form values into the schema's types; drop blanks.

    Returns the data and the field errors of values that cannot be converted.
    """
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    properties = schema.get("properties", {})
    for name, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            continue
        kind = properties.get(name, {}).get("type")
        if kind == "integer" and not isinstance(value, int):
            try:
                value = int(str(value).replace(".", "").replace(",", ""))
            except ValueError:
                errors[name] = N_("Phải là số nguyên")
                continue
        data[name] = value
    return data, errors


def check_form(procedure: Procedure | ProcedureVersion, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a procedure's form against its JSON Schema and its cross-field rules; map each error to its field."""
    schema = procedure.form_schema
    data, errors = coerce_form(schema, raw)
    for name in schema.get("required", []):
        if name not in data and name not in errors:
            errors[name] = REQUIRED
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        if error.validator == "required":
            continue  # reported above, per field
        if error.validator == "additionalProperties":
            for name in set(data) - set(schema.get("properties", {})):
                errors.setdefault(name, MESSAGES["additionalProperties"])
            continue
        field = str(error.path[0]) if error.path else "_form"
        errors.setdefault(field, MESSAGES.get(str(error.validator), N_("Không hợp lệ")))
    errors.update(rules.broken_rules(schema, data, errors))  # cross-field rules ("x-rules")
    return data, errors
