"""Pure rules about wards: reading the center's population file. No database."""

from __future__ import annotations

import csv
import io

from portal.core.i18n import N_

SOURCE_REQUIRED = N_("Cần ghi nguồn số liệu dân số")
TOO_LONG = N_("Quá dài")
MAX_POPULATION = 2_000_000  # no commune-level unit comes near it; larger is a typing error
MAX_BYTES = 200_000


def parse_population(text: str, known_codes: set[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Rows of `code,population` (a header row naming them is required), and errors keyed "row N".

    Row numbers are the file's line numbers (the header is row 1). Every bad row is named,
    with its field and why; the caller saves nothing when there is any.
    """
    errors: dict[str, str] = {}
    rows: dict[str, int] = {}
    if len(text.encode("utf-8")) > MAX_BYTES:
        return {}, {"file": N_("Tệp quá lớn")}
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "code" not in header or "population" not in header:
        return {}, {"file": N_("Dòng đầu phải có cột code và population")}
    reader.fieldnames = header
    for number, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        raw = (row.get("population") or "").strip().replace(".", "").replace(",", "").replace(" ", "")
        where = f"row {number}"
        if not code:
            errors[where] = N_("code: bắt buộc nhập")
        elif code.isdigit() and code.zfill(5) in known_codes:
            code = code.zfill(5)
        if code and code not in known_codes:
            errors[where] = N_("code: không phải mã phường/xã của Hà Nội")
        elif code in rows:
            errors[where] = N_("code: trùng với một dòng trước")
        elif code and not raw.isdigit():
            errors[where] = N_("population: phải là số nguyên không âm")
        elif code and int(raw) > MAX_POPULATION:
            errors[where] = N_("population: quá lớn")
        elif code:
            rows[code] = int(raw)
    if not rows and not errors:
        errors["file"] = N_("Tệp không có dòng số liệu nào")
    return rows, errors
