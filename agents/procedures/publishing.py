"""Publishing the catalogue: a checked definition becomes a new version; the center enables procedures per partner.

Every publish adds a version (nothing is ever edited in place), so a dossier filed under an
older version is still shown and priced by it. A version may be scheduled: it takes effect on
its `effective_from` day (never a day in the past). `check_definition` is pure and names each
bad field; the bulk import (agents/procedures/imports.py) uses it row by row.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner
from agents.points.models import PointProcedure
from agents.policy import Permission
from agents.procedures import fees, rules
from agents.procedures.calendar import MAX_PROCESSING_DAYS
from agents.procedures.models import ChargeTiming, PartnerProcedure, Procedure, ProcedureVersion, vietnam_today
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import N_, Message

CODE_PATTERN = re.compile(r"^\d{1,2}\.\d{6}$")  # mã TTHC: 1.001193, 2.000815
REQUIRED = N_("Bắt buộc nhập")
TEXT_LIMITS = {"name": 300, "field_code": 40, "field_name": 200, "handled_by": 200}
FIELDS = (
    "code",
    "name",
    "field_code",
    "field_name",
    "handled_by",
    "processing_days",
    "fee_rules",
    "fee_note",
    "city_charges",
    "required_documents",
    "form_schema",
    "effective_from",
    "change_note",
)
JSON_FIELDS = ("fee_rules", "required_documents", "form_schema")
CONTENT = (
    "name",
    "field_code",
    "field_name",
    "handled_by",
    "processing_days",
    "fee_rules",
    "fee_note",
    "city_charges",
    "required_documents",
    "form_schema",
)


def check_definition(data: Mapping[str, Any], *, today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """A procedure version's definition, cleaned, and what is wrong with it by field (empty: publishable)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in sorted(set(data) - set(FIELDS)):
        errors[key] = N_("Trường không có trong định nghĩa thủ tục")
    code = str(data.get("code") or "").strip()
    if not code:
        errors["code"] = REQUIRED
    elif not CODE_PATTERN.fullmatch(code):
        errors["code"] = N_("Mã TTHC có dạng 1.001193")
    clean["code"] = code
    for key, limit in TEXT_LIMITS.items():
        value = data.get(key)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            errors[key] = REQUIRED
        elif len(value) > limit:
            errors[key] = Message("Dài quá %(limit)s ký tự", limit=limit)
        clean[key] = value
    clean["processing_days"] = _days(data.get("processing_days"), errors)
    for key in ("fee_note", "change_note"):
        value = data.get(key) or ""
        if not isinstance(value, str):
            errors[key] = N_("Sai kiểu dữ liệu")
        clean[key] = str(value).strip()
    charges = data.get("city_charges") or ChargeTiming.none.value
    if charges not in {c.value for c in ChargeTiming}:
        errors["city_charges"] = Message(
            "Phải là một trong: %(choices)s", choices=", ".join(c.value for c in ChargeTiming)
        )
    else:
        clean["city_charges"] = ChargeTiming(charges)
    schema = data.get("form_schema")
    errors.update(form_schema_problems(schema))
    clean["form_schema"] = schema
    properties = schema.get("properties") if isinstance(schema, dict) else None
    fee_rules = data.get("fee_rules") if data.get("fee_rules") is not None else {"kind": "none"}
    errors.update(fees.problems(fee_rules, properties if isinstance(properties, dict) else None))
    clean["fee_rules"] = fee_rules
    documents, document_errors = check_documents(data.get("required_documents"))
    errors.update(document_errors)
    clean["required_documents"] = documents
    clean["effective_from"] = _effective(data.get("effective_from"), today, errors)
    return clean, errors


def _days(value: Any, errors: dict[str, str]) -> int:
    try:
        days = int(str(value).strip()) if not isinstance(value, bool) and value is not None else None
    except ValueError:
        days = None
    if days is None:
        errors["processing_days"] = N_("Phải là số ngày làm việc (số nguyên)")
        return 0
    if not 0 <= days <= MAX_PROCESSING_DAYS:
        errors["processing_days"] = Message("Phải từ 0 đến %(max)s ngày làm việc", max=MAX_PROCESSING_DAYS)
    return days


def _effective(value: Any, today: date, errors: dict[str, str]) -> date:
    if value in (None, ""):
        return today
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        errors["effective_from"] = N_("Ngày không hợp lệ (YYYY-MM-DD)")
        return today
    if day < today:
        errors["effective_from"] = Message(
            "Ngày hiệu lực %(day)s đã qua: chỉ được hẹn từ hôm nay (%(today)s) trở đi",
            day=day.isoformat(),
            today=today.isoformat(),
        )
    return day


def form_schema_problems(schema: Any) -> dict[str, str]:
    """What is wrong with a form: a valid JSON Schema of an object, every field labelled, its rules checkable."""
    if not isinstance(schema, dict):
        return {"form_schema": N_("Biểu mẫu phải là một JSON Schema (đối tượng JSON)")}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.path) or "form_schema"
        return {
            "form_schema": Message(
                "JSON Schema không hợp lệ tại %(where)s: %(reason)s", where=where, reason=error.message
            )
        }
    problems: dict[str, str] = {}
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        return {"form_schema": N_("Biểu mẫu phải là JSON Schema kiểu object, có properties")}
    for name, spec in properties.items():
        title = spec.get("title") if isinstance(spec, dict) else None
        if not isinstance(title, str) or not title.strip():
            problems[f"form_schema.properties.{name}.title"] = N_("Mỗi trường cần nhãn tiếng Việt (title)")
    for name in schema.get("required", []):
        if name not in properties:
            problems["form_schema.required"] = Message("Trường bắt buộc %(name)s không có trong biểu mẫu", name=name)
    rule_problems = rules.definition_problems(schema)
    if rule_problems:
        problems[f"form_schema.{rules.RULES_KEY}"] = "; ".join(rule_problems)
    return problems


def check_documents(value: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Required documents: [{"name", "original": bool, "mandatory": bool, "count": int ≥ 1}]."""
    if value is None:
        return [], {}
    if not isinstance(value, list):
        return [], {"required_documents": N_("Phải là một danh sách giấy tờ")}
    documents: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(value):
        where = f"required_documents[{index}]"
        if not isinstance(item, dict):
            errors[where] = N_("Phải là một đối tượng JSON")
            continue
        unknown = set(item) - {"name", "original", "mandatory", "count"}
        if unknown:
            errors[where] = Message("Khóa không hợp lệ: %(key)s", key=sorted(unknown)[0])
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            errors[f"{where}.name"] = REQUIRED
        for flag in ("original", "mandatory"):
            if not isinstance(item.get(flag, True), bool):
                errors[f"{where}.{flag}"] = N_("Phải là true hoặc false")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100:
            errors[f"{where}.count"] = N_("Số bản phải từ 1 đến 100")
        documents.append(
            {
                "name": str(name or "").strip(),
                "original": bool(item.get("original", True)),
                "mandatory": bool(item.get("mandatory", True)),
                "count": count if isinstance(count, int) else 1,
            }
        )
    return documents, errors


def publish(
    session: Session, actor: Actor | None, data: Mapping[str, Any], *, today: date | None = None
) -> ProcedureVersion:
    """Publish a new version of a procedure (a new procedure's first): checked, numbered, audited.

    `actor` None is the system itself (the demo seed); anyone else needs `publish_procedures`.
    """
    if actor is not None:
        policy.require(actor, Permission.publish_procedures)
    clean, errors = check_definition(data, today=today or vietnam_today())
    if errors:
        raise ValidationFailed("Định nghĩa thủ tục chưa hợp lệ", field_errors=errors)
    return _add_version(session, actor, clean)


def definition_from_texts(data: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A definition as typed into a form (the center's page, the back office): its JSON fields parsed;
    a field that is no JSON is named."""
    definition: dict[str, Any] = {k: v for k, v in data.items() if k in FIELDS and k not in JSON_FIELDS}
    errors: dict[str, str] = {}
    for name in JSON_FIELDS:
        text = (data.get(name) or "").strip()
        if not text:
            continue
        try:
            definition[name] = json.loads(text)
        except json.JSONDecodeError as error:
            errors[name] = Message("Ô không phải JSON hợp lệ: %(reason)s", reason=error.msg)
    return definition, errors


def publish_typed(session: Session, actor: Actor, data: Mapping[str, str]) -> ProcedureVersion:
    """Publish a definition typed into a form: every bad field named at once (JSON that does not parse
    included), nothing published unless all of it is valid."""
    policy.require(actor, Permission.publish_procedures)
    definition, json_errors = definition_from_texts(data)
    if json_errors:
        _, errors = check_definition(definition, today=vietnam_today())
        raise refused({**errors, **json_errors})
    return publish(session, actor, definition)


def _add_version(session: Session, actor: Actor | None, clean: dict[str, Any]) -> ProcedureVersion:
    procedure = session.scalar(select(Procedure).where(Procedure.code == clean["code"]))
    if procedure is None:
        procedure = Procedure(code=clean["code"], published=True)
        session.add(procedure)
        session.flush()
    number = (
        session.scalar(select(func.max(ProcedureVersion.number)).where(ProcedureVersion.procedure_id == procedure.id))
        or 0
    ) + 1
    version = ProcedureVersion(
        procedure_id=procedure.id,
        number=number,
        effective_from=clean["effective_from"],
        change_note=clean["change_note"],
        published_by=actor.account_id if actor is not None else None,
        **{key: clean[key] for key in CONTENT},
    )
    session.add(version)
    session.flush()
    session.refresh(procedure, ["versions"])
    audit.record(
        session,
        "procedure.published",
        "procedure",
        procedure.id,
        detail={
            "code": procedure.code,
            "version": number,
            "effective_from": version.effective_from.isoformat(),
            "change_note": version.change_note,
        },
    )
    return version


def same_content(version: ProcedureVersion | None, definition: Mapping[str, Any]) -> bool:
    """Does `version` already say what `definition` says (so publishing it again would add nothing)?"""
    if version is None:
        return False
    for key in CONTENT:
        mine = getattr(version, key)
        mine = mine.value if isinstance(mine, ChargeTiming) else mine
        theirs = definition.get(key)
        theirs = theirs.value if isinstance(theirs, ChargeTiming) else theirs
        if mine != theirs:
            return False
    return True


def refused(field_errors: dict[str, str]) -> ValidationFailed:
    return ValidationFailed("Định nghĩa thủ tục chưa hợp lệ", field_errors=field_errors)


def all_procedures(session: Session) -> list[Procedure]:
    """Every procedure the center ever published (in force, scheduled or withdrawn), by code."""
    return list(session.scalars(select(Procedure).order_by(Procedure.code)))


def versions_of(session: Session, code: str) -> Procedure:
    procedure = session.scalar(select(Procedure).where(Procedure.code == code))
    if procedure is None:
        raise NotFound("Không có thủ tục mã %(code)s", params={"code": code})
    return procedure


# --- the procedures the center enables per partner ------------------------------------------------


def enabled_procedure_ids(session: Session, partner_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.scalars(select(PartnerProcedure.procedure_id).where(PartnerProcedure.partner_id == partner_id)))


def enabled_codes(session: Session, partner_id: uuid.UUID) -> set[str]:
    return set(
        session.scalars(
            select(Procedure.code)
            .join(PartnerProcedure, PartnerProcedure.procedure_id == Procedure.id)
            .where(PartnerProcedure.partner_id == partner_id)
        )
    )


def is_enabled(session: Session, partner_id: uuid.UUID, procedure_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(PartnerProcedure.id).where(
                PartnerProcedure.partner_id == partner_id, PartnerProcedure.procedure_id == procedure_id
            )
        )
        is not None
    )


def enable_procedures(session: Session, actor: Actor | None, partner_id: uuid.UUID, codes: Iterable[str]) -> list[str]:
    """Add `codes` to what the partner may file (keeping the rest); returns the codes newly enabled."""
    have = enabled_codes(session, partner_id)
    wanted = set(codes)
    if wanted <= have:
        return []
    added, _ = set_partner_procedures(session, actor, partner_id, have | wanted)
    return added


def set_partner_procedures(
    session: Session, actor: Actor | None, partner_id: uuid.UUID, codes: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Make `codes` exactly the procedures the partner may file (network scope); returns (added, removed)."""
    if actor is not None:
        policy.require(actor, Permission.publish_procedures)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    wanted = {c.strip() for c in codes if c.strip()}
    known = {p.code: p for p in session.scalars(select(Procedure).where(Procedure.code.in_(wanted)))}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValidationFailed(
            "Không có thủ tục mã %(code)s", params={"code": unknown[0]}, field_errors={"procedures": unknown[0]}
        )
    rows = {
        row.procedure_id: row
        for row in session.scalars(select(PartnerProcedure).where(PartnerProcedure.partner_id == partner_id))
    }
    by_id = {p.id: p.code for p in known.values()}
    added = sorted(code for code, p in known.items() if p.id not in rows)
    removed_ids = [pid for pid in rows if pid not in by_id]
    removed_codes = {p.id: p.code for p in session.scalars(select(Procedure).where(Procedure.id.in_(removed_ids)))}
    for code in added:
        session.add(
            PartnerProcedure(
                partner_id=partner_id,
                procedure_id=known[code].id,
                enabled_by=actor.account_id if actor is not None else None,
            )
        )
    for pid in removed_ids:
        session.delete(rows[pid])
    # What the partner may no longer file, its points no longer offer.
    withdrawn = (
        list(
            session.scalars(
                select(PointProcedure).where(
                    PointProcedure.partner_id == partner_id, PointProcedure.procedure_id.in_(removed_ids)
                )
            )
        )
        if removed_ids
        else []
    )
    for offer in withdrawn:
        session.delete(offer)
    removed = sorted(removed_codes.values())
    session.flush()
    if added or removed:
        audit.record(
            session,
            "partner.procedures_changed",
            "partner",
            partner_id,
            partner_id=partner_id,
            detail={"enabled": added, "disabled": removed, "point_offers_withdrawn": len(withdrawn)},
        )
    return added, removed
