"""Reads back the .xlsx files the portal exports, with the standard library only (tests need no reader package).

`read_xlsx(data)` gives the first worksheet as rows of Python values (text, int/float numbers,
booleans, None for an empty cell), the cells styled as quote-prefixed text, and every formula found.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@dataclass(frozen=True)
class Sheet:
    rows: list[list[object]]
    quote_prefixed: set[tuple[int, int]]  # (row, column), 0-based
    formulas: list[str]


def _text(raw: str) -> str:
    """OOXML escapes characters XML cannot carry (a carriage return) as `_xHHHH_`; Excel reads them back."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), raw)


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def read_xlsx(data: bytes) -> Sheet:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = book.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", NS):
                shared.append(_text("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))))
        styles = ElementTree.fromstring(book.read("xl/styles.xml"))
        xfs = styles.find("m:cellXfs", NS)
        prefixed_styles = {i for i, xf in enumerate(xfs or []) if xf.get("quotePrefix") == "1"}
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows: list[list[object]] = []
    quote_prefixed: set[tuple[int, int]] = set()
    formulas: list[str] = []
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        r = int(row.get("r", "0")) - 1
        while len(rows) <= r:
            rows.append([])
        cells = rows[r]
        for cell in row.findall("m:c", NS):
            col = _column(cell.get("r", "A1"))
            while len(cells) <= col:
                cells.append(None)
            formula = cell.find("m:f", NS)
            if formula is not None:
                formulas.append(formula.text or "")
            kind, value = cell.get("t", "n"), cell.find("m:v", NS)
            if kind == "inlineStr":
                cells[col] = _text("".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t")))
            elif kind == "s" and value is not None:
                cells[col] = shared[int(value.text or "0")]
            elif kind in ("str", "e") and value is not None:
                cells[col] = _text(value.text or "")
            elif kind == "b" and value is not None:
                cells[col] = value.text == "1"
            elif value is not None:
                number = float(value.text or "0")
                cells[col] = int(number) if number.is_integer() else number
            if int(cell.get("s", "0")) in prefixed_styles:
                quote_prefixed.add((r, col))
    return Sheet(rows, quote_prefixed, formulas)
