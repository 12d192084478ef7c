"""A catalogue file is checked row by row; the admin imports its valid rows, all of them, or nothing."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agents.procedures import imports
from agents.procedures.models import Procedure, ProcedureVersion, vietnam_today
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import ValidationFailed
from tests.factories import create_person, setup_scope

FORM = {"type": "object", "properties": {"document_name": {"type": "string", "title": "Tên giấy tờ"}}, "required": []}


@pytest.fixture(scope="module")
def admin():
    return create_person((Role.center_admin, None, None))


def _code() -> str:
    return f"7.{uuid.uuid4().int % 1_000_000:06d}"


def _definition(code: str, **changes) -> dict:
    return {
        "code": code,
        "name": "Thủ tục nhập từ tệp",
        "field_code": "CTH",
        "field_name": "Chứng thực",
        "handled_by": "UBND cấp xã",
        "processing_days": 2,
        "fee_rules": {"kind": "fixed", "amount_vnd": 10000},
        "required_documents": [{"name": "Tờ khai", "original": True, "mandatory": True, "count": 1}],
        "form_schema": FORM,
        **changes,
    }


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    columns = ["code", "name", "field_code", "field_name", "handled_by", "processing_days", "fee_rules"]
    columns += ["required_documents", "form_schema", "effective_from"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in row.items()}
        )
    return out.getvalue().encode()


def _versions() -> int:
    with read_only(setup_scope()) as session:
        return session.scalar(select(func.count(ProcedureVersion.id)))


def _import(admin, content, *, kind, mode):
    with unit_of_work(setup_scope()) as session:
        return imports.import_catalogue(session, admin, content, kind=kind, mode=mode)


def _broken_file(kind):
    good, fee, schema, past = _code(), _code(), _code(), _code()
    rows = [
        _definition(good),
        _definition(fee, fee_rules={"kind": "fixed", "amount_vnd": -1}),
        _definition(schema, form_schema={"type": "object", "properties": {"x": {"type": "nonsense", "title": "X"}}}),
        _definition(past, effective_from=(vietnam_today() - timedelta(days=3)).isoformat()),
    ]
    content = _csv(rows) if kind == "csv" else json.dumps(rows, ensure_ascii=False).encode()
    return content, (good, fee, schema, past)


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_the_report_names_each_bad_row_its_field_and_why_and_a_check_saves_nothing(admin, kind):
    content, (_, fee, schema, past) = _broken_file(kind)
    before = _versions()
    report = _import(admin, content, kind=kind, mode="check")
    first = 2 if kind == "csv" else 1  # CSV rows are numbered as in a spreadsheet, under the header
    assert [(p.row, p.code, p.field) for p in report.problems] == [
        (first + 1, fee, "fee_rules.amount_vnd"),
        (first + 2, schema, "form_schema"),
        (first + 3, past, "effective_from"),
    ]
    assert report.problems[0].reason == "Số tiền không được âm"
    assert "JSON Schema không hợp lệ" in report.problems[1].reason
    assert "đã qua" in report.problems[2].reason
    assert (report.rows, report.valid_rows, report.published) == (4, 1, [])
    assert _versions() == before


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_the_admin_may_import_the_valid_rows_and_leave_the_bad_ones_out(admin, kind):
    content, (good, fee, schema, past) = _broken_file(kind)
    report = _import(admin, content, kind=kind, mode="valid")
    assert report.published == [(good, 1)]
    with read_only(setup_scope()) as session:
        codes = set(session.scalars(select(Procedure.code).where(Procedure.code.in_([good, fee, schema, past]))))
        assert codes == {good}
        entry = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "procedure.catalogue_imported")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert entry.detail["published"] == [f"{good} v1"] and len(entry.detail["bad_rows"]) == 3


def test_or_import_nothing_unless_every_row_is_valid(admin):
    content, _ = _broken_file("csv")
    before = _versions()
    report = _import(admin, content, kind="csv", mode="all")
    assert report.published == [] and len(report.bad_rows) == 3
    assert _versions() == before
    clean = _csv([_definition(_code()), _definition(_code())])
    assert len(_import(admin, clean, kind="csv", mode="all").published) == 2


def test_a_code_twice_in_one_file_and_a_cell_that_is_no_json_are_named():
    code = _code()
    rows = [_definition(code), _definition(code)]
    content = _csv(rows).decode().replace('"{""kind"": ""fixed"", ""amount_vnd"": 10000}"', "{kind: fixed}", 1)
    good, problems = imports.check_rows(imports.parse(content.encode(), "csv"), vietnam_today())
    assert [(p.row, p.field) for p in problems] == [(2, "fee_rules"), (3, "code")]
    assert "trùng với dòng 2" in problems[1].reason
    assert good == []


@pytest.mark.parametrize(
    ("content", "kind", "reason"),
    [
        (b"\xff\xfe not utf-8", "csv", "UTF-8"),
        (b"code,name\n1.000001,X\n", "csv", "Thiếu cột"),
        (b"[{]", "json", "JSON không hợp lệ"),
        (b'{"x": 1}', "json", "danh sách"),
        (b"", "csv", "Thiếu cột"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_saying_why(admin, content, kind, reason):
    with pytest.raises(ValidationFailed) as refused:
        _import(admin, content, kind=kind, mode="valid")
    assert reason in refused.value.field_errors["file"]


def test_only_the_centers_admin_imports():
    auditor = create_person((Role.auditor, None, None))
    with pytest.raises(Exception) as refused:
        _import(auditor, _csv([_definition(_code())]), kind="csv", mode="valid")
    assert getattr(refused.value, "status_code", None) == 403
