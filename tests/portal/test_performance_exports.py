"""Every dashboard table exports as CSV and XLSX; a large one is built by a worker in the requester's scope."""

from __future__ import annotations

import csv
import io
import re
import uuid

import openpyxl
import pytest
from sqlalchemy import text

from agents.reporting.rollups import touched_keys
from agents.reporting.tables import TABLES
from agents.reporting.tasks import export, refresh
from agents.staff.models import Role
from portal.core.celery_app import SCOPE_HEADER
from portal.core.db import get_engine
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person, file_birth_registration


def _refresh(*dossiers) -> None:
    for key in sorted(touched_keys(dossiers)):
        refresh.apply(args=list(key), throw=True)


def _sheet(body: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _csv(body: str) -> list[list[str]]:
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def two_partners(portal):
    partner, point, staff = create_counter(point_name=f"=Điểm Tràng Tiền {uuid.uuid4().hex[:4]}")
    other_partner, other_point, other_staff = create_counter(point_name=f"Điểm Khác {uuid.uuid4().hex[:4]}")
    _refresh(
        *[file_birth_registration(staff, point) for _ in range(2)], file_birth_registration(other_staff, other_point)
    )
    manager = create_person((Role.partner_manager, partner, None))
    boss = portal()
    boss.sign_in(manager.email)
    return boss, manager, partner, point, other_partner, other_point


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    def apply(**values: str) -> None:
        monkeypatch.setenv("REPORTING_EXPORT_DIR", str(tmp_path / "exports"))
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.delenv("REPORTING_EXPORT_INLINE_ROWS", raising=False)
    monkeypatch.delenv("REPORTING_EXPORT_MAX_ROWS", raising=False)
    monkeypatch.delenv("REPORTING_EXPORT_DIR", raising=False)
    get_settings.cache_clear()


def test_every_table_of_a_managers_dashboard_exports_as_csv_and_xlsx_holding_only_their_points(two_partners):
    boss, _manager, _partner, point, _other_partner, other_point = two_partners
    page = boss.get("/partner/performance").text
    for table in ("points", "staff", "procedures", "weeks", "days"):
        assert f'data-testid="xlsx-{table}"' in page and f'data-testid="csv-{table}"' in page
    for table in TABLES:
        as_csv = boss.get(f"/partner/performance.csv?table={table}")
        as_xlsx = boss.get(f"/partner/performance.xlsx?table={table}")
        assert as_csv.status_code == 200 and as_xlsx.status_code == 200, table
        assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert f'filename="{table}-' in as_xlsx.headers["content-disposition"]
        sheet, rows = _sheet(as_xlsx.content), _csv(as_csv.text)
        assert [str(c) for c in sheet[0]] == rows[0], table  # the same columns in both formats
        assert len(sheet) == len(rows), table
        for cell in [c for row in sheet for c in row] + [c for row in rows for c in row]:
            assert other_point.name not in str(cell), table
    points = _sheet(boss.get("/partner/performance.xlsx?table=points").content)
    assert points[1][1] == point.name and points[1][2] == 2  # text stays text (no formula), counts are numbers
    assert _csv(boss.get("/partner/performance.csv?table=points").text)[1][1] == "'" + point.name
    days = _sheet(boss.get("/partner/performance.xlsx?table=days").content)
    assert days[0][:4] == ["point_id", "point", "day", "filed"] and days[1][1] == point.name and days[1][3] == 2


def test_the_center_exports_every_partner_side_by_side(portal, two_partners):
    _boss, _manager, partner, _point, other_partner, _other_point = two_partners
    admin = create_person((Role.center_admin, None, None))
    center = portal()
    center.sign_in(admin.email)
    names = [row[1] for row in _sheet(center.get("/center/performance.xlsx?table=partners").content)]
    assert partner.name in names and other_partner.name in names
    assert "xlsx-adoption" in center.get("/center/performance").text


def test_a_large_export_is_built_by_a_worker_in_the_requesters_scope_with_its_progress_then_downloaded(
    portal, two_partners, settings_env
):
    settings_env(REPORTING_EXPORT_INLINE_ROWS="0")
    boss, manager, partner, point, other_partner, other_point = two_partners
    offer = boss.get("/partner/performance.xlsx?table=days")
    assert offer.status_code == 200 and 'data-testid="export-offer"' in offer.text
    assert "1 dòng, nhiều hơn 0 dòng" in offer.text
    started = boss.post_form(
        "/partner/performance/exports",
        {"table": "days", "format": "xlsx", "start": "", "end": "", "point": "", "staff": ""},
    )
    assert started.status_code == 303
    job_url = started.headers["location"]
    job_id = re.fullmatch(r"/partner/exports/([0-9a-f-]{36})", job_url).group(1)
    waiting = boss.get(job_url)
    assert 'data-status="queued"' in waiting.text and 'http-equiv="refresh"' in waiting.text
    assert boss.get(f"{job_url}/file").status_code == 404  # nothing to download yet

    # Another partner's scope does not even see the job; the requester's builds it.
    elsewhere = Scope.partner(other_partner.id, actor_label="someone else")
    assert export.apply(args=[job_id], headers={SCOPE_HEADER: elsewhere.as_header()}, throw=True).get() == "missing"
    mine = Scope.partner(partner.id, actor_id=manager.account_id, actor_label=manager.email)
    assert export.apply(args=[job_id], headers={SCOPE_HEADER: mine.as_header()}, throw=True).get() == "done"

    done = boss.get(job_url)
    assert 'data-status="done"' in done.text and 'http-equiv="refresh"' not in done.text
    download = boss.get(f"{job_url}/file")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/vnd.openxml")
    sheet = _sheet(download.content)
    assert [row[1] for row in sheet[1:]] == [point.name]
    assert other_point.name not in str(sheet)
    assert "days.xlsx" in boss.get("/partner/performance").text  # listed among the recent exports

    # Nobody else may see it: another manager of the same partner, another partner's, the center.
    colleague = portal()
    colleague.sign_in(create_person((Role.partner_manager, partner, None)).email)
    assert colleague.get(job_url).status_code == 404 and colleague.get(f"{job_url}/file").status_code == 404


def test_an_export_larger_than_one_file_holds_is_refused_with_the_numbers(portal, two_partners, settings_env):
    settings_env(REPORTING_EXPORT_MAX_ROWS="1", REPORTING_EXPORT_INLINE_ROWS="0")
    center = portal()
    center.sign_in(create_person((Role.center_admin, None, None)).email)
    refused = center.get("/center/performance.xlsx?table=partners")
    assert refused.status_code == 422
    assert "dòng, quá 1 dòng một tệp có thể chứa" in refused.text and "Tối đa 1 dòng" in refused.text
    posted = center.post_form("/center/performance/exports", {"table": "partners", "format": "csv"})
    assert posted.status_code == 422 and "quá 1 dòng" in posted.text
    assert 'data-testid="exports"' not in center.get("/center/performance").text  # nothing was recorded


def test_bad_export_requests_are_answered_clearly_and_nothing_is_recorded(two_partners):
    boss, *_ = two_partners
    backwards = boss.get("/partner/performance.xlsx?table=points&start=2026-12-01&end=2026-01-01")
    assert backwards.status_code == 422 and "Ngày kết thúc trước ngày bắt đầu" in backwards.text
    assert boss.get("/partner/performance.xlsx?table=everything").status_code == 422
    posted = boss.post_form(
        "/partner/performance/exports", {"table": "days", "format": "pdf", "start": "2026-12-01", "end": "2026-01-01"}
    )
    assert posted.status_code == 422 and "Bảng không hợp lệ" in posted.text


_FIGURE_COLUMNS = (
    "partner_id, agent_point_id, day, staff_account_id, procedure_id, filed, not_forwarded, rejected, status_none,"
    " status_1, status_2, status_3, status_4, status_5, status_6, status_7, status_8, status_9, status_10,"
    " supplement, on_time, late, counter_count, counter_seconds, counter_within_15"
)
_ZEROS = ", 0" * 19


def _a_million_rollup_rows(conn, partner_id: uuid.UUID, marker: uuid.UUID) -> None:
    """A million (point, day) rows in one partner's rollups: 1370 points over two years."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL app.all_partners = 'on'"))
        conn.execute(
            text(
                f"INSERT INTO point_day_figures ({_FIGURE_COLUMNS}) SELECT :partner, md5('million' || (i / 730))::uuid,"
                f" date '2023-01-01' + (i % 730), :marker, :marker, 1{_ZEROS} FROM generate_series(0, 999999) AS i"
            ),
            {"partner": partner_id, "marker": marker},
        )
    else:  # SQLAlchemy keeps UUIDs on SQLite as 32 hex digits
        conn.execute(
            text(
                f"INSERT INTO point_day_figures ({_FIGURE_COLUMNS}) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL"
                " SELECT i + 1 FROM n WHERE i < 999999) SELECT :partner, printf('%032x', i / 730),"
                f" date('2023-01-01', '+' || (i % 730) || ' days'), :marker, :marker, 1{_ZEROS} FROM n"
            ),
            {"partner": partner_id.hex, "marker": marker.hex},
        )


def test_an_export_of_a_million_rows_is_counted_from_the_rollups_and_offered_to_a_worker(two_partners):
    boss, _manager, partner, *_ = two_partners
    marker = uuid.uuid4()
    with get_engine().begin() as conn:
        _a_million_rollup_rows(conn, partner.id, marker)
    try:
        offer = boss.get("/partner/performance.csv?table=days&start=2023-01-01&end=2024-12-30")
        assert offer.status_code == 200 and 'data-testid="export-offer"' in offer.text
        assert "Bảng này có 1.000.000 dòng" in offer.text and "nhiều hơn 20.000 dòng" in offer.text
        assert "point_id" not in offer.text  # a page that says so, not a file being written for minutes
    finally:
        with get_engine().begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL app.all_partners = 'on'"))
            conn.execute(
                text("DELETE FROM point_day_figures WHERE procedure_id = :marker"),
                {"marker": marker if conn.dialect.name == "postgresql" else marker.hex},
            )
