"""Bulk import of procedure versions from a CSV or JSON file, checked row by row.

Every row is checked as a publish would check it (`publishing.check_definition`) and the report
names each bad row, its field and why. The center admin chooses what happens then:

- `check`: nothing is saved, the report only;
- `valid`: the valid rows are published (each a new version), the bad ones are reported and left out;
- `all`: all rows or none: one bad row and nothing is saved.

Either way the rows saved are saved in the caller's one unit of work: an import is never half-saved.

CSV: one row per version, a header with the definition's fields; `fee_rules`, `required_documents`
and `form_schema` cells hold JSON. JSON: a list of definitions, or `{"procedures": [...]}`.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from agents import policy
from agents.policy import Permission
from agents.procedures import publishing
from agents.procedures.models import vietnam_today
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_, Message

MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
JSON_CELLS = ("fee_rules", "required_documents", "form_schema")
REQUIRED_COLUMNS = ("code", "name", "field_code", "field_name", "handled_by", "processing_days", "form_schema")


class ImportMode(str, enum.Enum):
    check = "check"  # report only
    valid = "valid"  # import the valid rows, leave the bad ones out
    all = "all"  # all rows or nothing


@dataclass(frozen=True)
class RowProblem:
    row: int  # CSV: the spreadsheet's line (the header is 1); JSON: the item's position from 1
    code: str
    field: str
    reason: str


@dataclass
class ImportReport:
    mode: ImportMode
    rows: int
    problems: list[RowProblem] = field(default_factory=list)
    published: list[tuple[str, int]] = field(default_factory=list)  # (code, version number)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def valid_rows(self) -> int:
        return self.rows - len(self.bad_rows)


def _file_error(text: str) -> ValidationFailed:
    return ValidationFailed("Tệp danh mục không đọc được", field_errors={"file": text})


def parse(content: bytes, kind: str) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    """The file's rows: (row number, definition, problems found while reading the row's cells)."""
    if len(content) > MAX_BYTES:
        raise _file_error(Message("Tệp lớn quá %(limit)s MB", limit=MAX_BYTES // (1024 * 1024)))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(N_("Tệp phải là văn bản UTF-8")) from None
    rows = _parse_json(text) if kind == "json" else _parse_csv(text)
    if not rows:
        raise _file_error(N_("Tệp không có dòng nào"))
    if len(rows) > MAX_ROWS:
        raise _file_error(Message("Tệp có quá %(limit)s dòng", limit=MAX_ROWS))
    return rows


def _parse_json(text: str) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _file_error(
            Message("JSON không hợp lệ ở dòng %(line)s: %(reason)s", line=error.lineno, reason=error.msg)
        ) from None
    if isinstance(data, dict) and isinstance(data.get("procedures"), list):
        data = data["procedures"]
    if not isinstance(data, list):
        raise _file_error(N_('Tệp JSON phải là một danh sách thủ tục, hoặc {"procedures": [...]}'))
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    for index, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((index, item, {}))
        else:
            rows.append((index, {}, {"_row": N_("Mỗi thủ tục phải là một đối tượng JSON")}))
    return rows


def _parse_csv(text: str) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise _file_error(Message("Thiếu cột: %(columns)s", columns=", ".join(missing)))
    unknown = [c for c in header if c not in publishing.FIELDS]
    if unknown:
        raise _file_error(Message("Cột không có trong định nghĩa thủ tục: %(columns)s", columns=", ".join(unknown)))
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    try:
        for raw in reader:
            number = reader.line_num
            cells = {(k or "").strip(): v for k, v in raw.items()}
            if None in raw:
                rows.append((number, {}, {"_row": N_("Dòng có nhiều ô hơn tiêu đề")}))
                continue
            definition: dict[str, Any] = {}
            problems: dict[str, str] = {}
            for key, value in cells.items():
                value = (value or "").strip()
                if key in JSON_CELLS:
                    if not value:
                        continue
                    try:
                        definition[key] = json.loads(value)
                    except json.JSONDecodeError as error:
                        problems[key] = Message("Ô không phải JSON hợp lệ: %(reason)s", reason=error.msg)
                elif value:
                    definition[key] = value
            rows.append((number, definition, problems))
    except csv.Error as error:
        raise _file_error(Message("CSV không hợp lệ: %(reason)s", reason=str(error))) from None
    return rows


def check_rows(
    rows: list[tuple[int, dict[str, Any], dict[str, str]]], today: date
) -> tuple[list[tuple[int, dict[str, Any]]], list[RowProblem]]:
    """The rows that may be published, and every problem of the others (by row and field)."""
    good: list[tuple[int, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, definition, read_problems in rows:
        code = str(definition.get("code") or "")
        found = dict(read_problems)
        if "_row" not in found:
            checked = {k: v for k, v in definition.items() if k not in read_problems}
            _, errors = publishing.check_definition(checked, today=today)
            for key, reason in errors.items():
                if key.split(".")[0].split("[")[0] not in read_problems:
                    found.setdefault(key, reason)
        if code and code in seen and "code" not in found:
            found["code"] = Message("Mã %(code)s trùng với dòng %(row)s", code=code, row=seen[code])
        seen.setdefault(code, number)
        if found:
            problems += [RowProblem(number, code, key, reason) for key, reason in sorted(found.items())]
        else:
            good.append((number, definition))
    return good, problems


def import_catalogue(
    session: Session,
    actor: Actor,
    content: bytes,
    *,
    kind: str,
    mode: ImportMode | str = ImportMode.check,
    today: date | None = None,
) -> ImportReport:
    """Check a catalogue file row by row and, as the admin chose, publish its valid rows, all of them, or none."""
    policy.require(actor, Permission.publish_procedures)
    mode = ImportMode(mode)
    if kind not in ("csv", "json"):
        raise ValidationFailed("Tệp danh mục không đọc được", field_errors={"kind": N_("Chỉ nhận tệp CSV hoặc JSON")})
    day = today or vietnam_today()
    rows = parse(content, kind)
    good, problems = check_rows(rows, day)
    report = ImportReport(mode, len(rows), problems)
    if mode is ImportMode.check or (mode is ImportMode.all and problems) or not good:
        return report
    with session.begin_nested():  # every row or none of them: a failure here takes back the rows before it
        for _, definition in good:
            version = publishing.publish(session, actor, definition, today=day)
            report.published.append((version.code, version.number))
    audit.record(
        session,
        "procedure.catalogue_imported",
        "procedure",
        None,
        detail={
            "kind": kind,
            "mode": mode.value,
            "rows": len(rows),
            "published": [f"{code} v{number}" for code, number in report.published],
            "bad_rows": report.bad_rows,
        },
    )
    return report


def report_rows(report: ImportReport) -> list[Mapping[str, Any]]:
    """The report as rows (row, code, field, reason) for a page or a CSV."""
    return [{"row": p.row, "code": p.code, "field": p.field, "reason": p.reason} for p in report.problems]
