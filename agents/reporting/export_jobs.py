"""Large dashboard exports: asked for on a page, built by a worker in the requester's scope, then downloaded.

A table of more than `REPORTING_EXPORT_INLINE_ROWS` rows is not written during the request
(a million-row XLSX takes minutes). `request` records an `ExportJob` and, after commit,
enqueues `reporting.export` with the request's own scope; the worker re-enters that scope
(`ScopedTask.work_scope`), so both tenancy walls hold while it reads: a partner's manager's
export can only ever hold that partner's rows. `build` writes the file row by row into the
exports folder and notes its progress every few thousand rows in a short unit of its own, which
the job's page reads; a redelivered task starts the file again from the first row. Only the
person who asked may see the job or download its file: anyone else gets 404.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.reporting import dashboards, tables
from agents.reporting.export import (
    CSV_MEDIA_TYPE,
    UTF8_BOM,
    XLSX_MEDIA_TYPE,
    SafeCsvWriter,
    SafeXlsxWriter,
)
from agents.reporting.models import ExportJob
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.celery_app import enqueue
from portal.core.db import on_commit, read_only, unit_of_work, utcnow
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import Message
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

log = logging.getLogger(__name__)
PROGRESS_EVERY_ROWS = 5000
PROGRESS_EVERY_SECONDS = 2.0
SHEET_NAMES = {
    "points": "Diem",
    "staff": "Nhan vien",
    "partners": "Doi tac",
    "procedures": "Thu tuc",
    "weeks": "Tuan",
    "adoption": "Ap dung",
    "days": "Theo ngay",
}


def _dotted(n: int) -> str:
    """A count as Vietnamese writes it: 1.000.000."""
    return format(n, ",").replace(",", ".")


def check_size(count: int) -> None:
    """Refuse, with the numbers, an export larger than one export may be."""
    limit = get_settings().reporting.export_max_rows
    if count > limit:
        raise ValidationFailed(
            Message(
                "Bảng có %(count)s dòng, quá %(limit)s dòng một tệp có thể chứa: hãy chọn khoảng thời gian ngắn hơn hoặc một điểm",
                count=_dotted(count),
                limit=_dotted(limit),
            ),
            field_errors={"end": Message("Tối đa %(limit)s dòng", limit=_dotted(limit))},
        )


def goes_to_a_worker(count: int) -> bool:
    return count > get_settings().reporting.export_inline_rows


def file_name(table: str, period: dashboards.Period, file_format: str) -> str:
    return f"{table}-{period.start}-{period.end}.{file_format}"


def write(table: tables.Table, file_format: str, path: Path, progress: object = None) -> int:
    """Write `table` into `path` as CSV or XLSX; call `progress(rows)` now and then; the rows written."""
    written = 0
    last = time.monotonic()

    def tick() -> None:
        nonlocal last
        if callable(progress) and (
            written % PROGRESS_EVERY_ROWS == 0 or time.monotonic() - last >= PROGRESS_EVERY_SECONDS
        ):
            last = time.monotonic()
            progress(written)

    if file_format == "xlsx":
        with SafeXlsxWriter(path, SHEET_NAMES.get(table.name, table.name)) as sheet:
            sheet.writerow(table.header)
            for row in table.rows():
                sheet.writerow(row)
                written += 1
                tick()
        return written
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(UTF8_BOM)
        writer = SafeCsvWriter(out)
        writer.writerow(table.header)
        for row in table.rows():
            writer.writerow(row)
            written += 1
            tick()
    return written


def request(
    session: Session, actor: Actor, table: str, file_format: str, filters: tables.Filters, count: int
) -> ExportJob:
    """Record the export and have a worker build it, in this unit's scope, once the unit has committed."""
    tables.check_choice(table, file_format)
    check_size(count)
    scope = current_scope(session)
    job = ExportJob(
        partner_id=scope.partner_id,
        requested_by=actor.account_id,
        table_name=table,
        file_format=file_format,
        period_start=filters.period.start,
        period_end=filters.period.end,
        agent_point_id=filters.point_id,
        staff_account_id=filters.staff_id,
        status="queued",
        rows_total=count,
        rows_done=0,
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        "report.export_requested",
        "export_job",
        job.id,
        partner_id=scope.partner_id,
        detail={"table": table, "format": file_format, "rows": count, "start": str(filters.period.start),
                "end": str(filters.period.end)},
    )  # fmt: skip
    on_commit(session, lambda: enqueue("reporting.export", [str(job.id)], scope=scope))
    return job


def job_of(session: Session, actor: Actor, job_id: uuid.UUID) -> ExportJob:
    """The job, if this person asked for it (in this scope); 404 otherwise, like a job that does not exist."""
    job = session.scalar(select(ExportJob).where(ExportJob.id == job_id))
    if job is None or job.requested_by != actor.account_id:
        raise NotFound("Không tìm thấy tệp xuất")
    return job


def jobs_of(session: Session, actor: Actor, limit: int = 10) -> list[ExportJob]:
    return list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.requested_by == actor.account_id)
            .order_by(ExportJob.created_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Download:
    path: Path
    name: str
    media_type: str


def download(session: Session, actor: Actor, job_id: uuid.UUID) -> Download:
    job = job_of(session, actor, job_id)
    path = get_settings().reporting.export_dir / (job.stored_as or "")
    if job.status != "done" or not job.stored_as or not path.is_file():
        raise NotFound("Tệp xuất chưa sẵn sàng")
    period = dashboards.Period(job.period_start, job.period_end)
    return Download(
        path,
        file_name(job.table_name, period, job.file_format),
        XLSX_MEDIA_TYPE if job.file_format == "xlsx" else CSV_MEDIA_TYPE,
    )


def _set(scope: Scope, job_id: uuid.UUID, **values: object) -> None:
    with unit_of_work(scope) as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values, updated_at=utcnow()))


def build(scope: Scope, job_id: uuid.UUID) -> str:
    """Build the job's file in `scope` (the requester's); idempotent: a redelivery starts it over."""
    with unit_of_work(scope) as session:
        job = session.scalar(select(ExportJob).where(ExportJob.id == job_id))
        if job is None:
            return "missing"
        if job.status in ("done", "failed"):
            return job.status
        job.status, job.rows_done = "running", 0
        table_name, file_format = job.table_name, job.file_format
        filters = tables.Filters(
            dashboards.Period(job.period_start, job.period_end), job.agent_point_id, job.staff_account_id
        )
    folder = get_settings().reporting.export_dir
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{job_id}.{file_format}"
    partial = folder / f"{job_id}.{file_format}.part"
    try:
        with read_only(scope) as session:
            table = tables.open_table(session, table_name, filters)
            check_size(table.count)
            _set(scope, job_id, rows_total=table.count)
            written = write(table, file_format, partial, lambda n: _set(scope, job_id, rows_done=n))
        partial.replace(final)
    except Exception as exc:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        log.exception("export %s failed", job_id)
        reason = exc.message if isinstance(exc, ValidationFailed) else type(exc).__name__
        _set(scope, job_id, status="failed", error=str(reason)[:500], finished_at=utcnow())
        return "failed"
    _set(
        scope, job_id, status="done", rows_done=written, rows_total=written, stored_as=final.name, finished_at=utcnow()
    )
    return "done"
