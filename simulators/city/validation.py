"""Validation of a DongBoHoSoMC (dossier submission) body."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .catalogue import BY_CODE
from .clock import now_vn, parse_iso_date

ID_NUMBER = re.compile(r"[0-9]{12}")
# Vietnamese numbers: 0 or +84 followed by 9-10 digits (mobiles have 9 after the 0).
PHONE = re.compile(r"(?:0|\+84)[0-9]{9,10}")
PHONE_SEPARATORS = re.compile(r"[ .\-()]")

MAX_TEXT = 500
MAX_CODE = 100


class ValidationFailed(Exception):
    def __init__(self, code: str, message: str, field: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "field": self.field}


def _present(body: dict[str, Any], name: str) -> bool:
    return body.get(name) is not None


def _text(body: dict[str, Any], name: str, *, required: bool, max_len: int = MAX_TEXT, prefix: str = "") -> str | None:
    label = prefix + name
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationFailed("missing_field", f"{label} is required", label)
        return None
    if not isinstance(value, str):
        raise ValidationFailed("invalid_type", f"{label} must be a string", label)
    value = value.strip()
    if not value:
        if required:
            raise ValidationFailed("missing_field", f"{label} is required", label)
        return None
    if len(value) > max_len:
        raise ValidationFailed("too_long", f"{label} must be at most {max_len} characters", label)
    return value


def _id_number(body: dict[str, Any], name: str, *, prefix: str = "") -> str:
    label = prefix + name
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed("missing_field", f"{label} is required", label)
    if not isinstance(value, str) or not ID_NUMBER.fullmatch(value):
        raise ValidationFailed(
            "invalid_id_number",
            f"{label} must be a personal identification number (CCCD): a string of exactly 12 digits",
            label,
        )
    return value


def _phone(body: dict[str, Any], name: str, *, required: bool, prefix: str = "") -> str | None:
    value = _text(body, name, required=required, max_len=30, prefix=prefix)
    if value is None:
        return None
    if not PHONE.fullmatch(PHONE_SEPARATORS.sub("", value)):
        label = prefix + name
        raise ValidationFailed(
            "invalid_phone", f"{label} must be a Vietnamese phone number (0xxxxxxxxx or +84xxxxxxxxx)", label
        )
    return value


def validate_submission(body: Any) -> dict[str, Any]:
    """Check a submission body and return it with defaults filled in.

    Raises :class:`ValidationFailed` on the first problem found.  Fields the
    simulator does not know are kept as they are.
    """
    if not isinstance(body, dict):
        raise ValidationFailed("invalid_body", "the request body must be a JSON object", None)
    cleaned = dict(body)

    cleaned["MaHoSoDoiTac"] = _text(body, "MaHoSoDoiTac", required=True, max_len=MAX_CODE)
    code = _text(body, "MaTTHC", required=True, max_len=MAX_CODE)
    procedure = BY_CODE.get(code or "")
    if procedure is None:
        raise ValidationFailed(
            "unknown_procedure",
            f"MaTTHC {code!r} is not in the procedure catalogue (see GET /api/v1/procedures)",
            "MaTTHC",
        )
    cleaned["MaTTHC"] = procedure.code
    cleaned["TenTTHC"] = _text(body, "TenTTHC", required=False) or procedure.name
    cleaned["ChuHoSo"] = _text(body, "ChuHoSo", required=True, max_len=200)
    cleaned["SoDinhDanh"] = _id_number(body, "SoDinhDanh")

    birth = _text(body, "NgaySinh", required=False, max_len=10)
    if birth is not None:
        parsed = parse_iso_date(birth)
        if parsed is None or parsed > now_vn().date():
            raise ValidationFailed("invalid_date", "NgaySinh must be a past date written YYYY-MM-DD", "NgaySinh")

    cleaned["SoDienThoai"] = _phone(body, "SoDienThoai", required=True)
    _text(body, "DiaChi", required=False)

    if _present(body, "NguoiNop"):
        proxy = body["NguoiNop"]
        if not isinstance(proxy, dict):
            raise ValidationFailed("invalid_type", "NguoiNop must be an object", "NguoiNop")
        _text(proxy, "HoTen", required=True, max_len=200, prefix="NguoiNop.")
        _id_number(proxy, "SoDinhDanh", prefix="NguoiNop.")
        _phone(proxy, "SoDienThoai", required=False, prefix="NguoiNop.")
        _text(proxy, "DiaChi", required=False, prefix="NguoiNop.")

    _text(body, "TrichYeuHoSo", required=False, max_len=2000)

    channel = body.get("HinhThuc")
    if channel is None:
        cleaned["HinhThuc"] = 2
    elif isinstance(channel, bool) or not isinstance(channel, int):
        raise ValidationFailed("invalid_type", "HinhThuc must be an integer (2 = online)", "HinhThuc")

    if _present(body, "DuLieuBieuMau") and not isinstance(body["DuLieuBieuMau"], dict):
        raise ValidationFailed("invalid_type", "DuLieuBieuMau must be an object", "DuLieuBieuMau")

    documents = body.get("TaiLieuNop")
    if documents is not None:
        if not isinstance(documents, list):
            raise ValidationFailed("invalid_type", "TaiLieuNop must be a list", "TaiLieuNop")
        for index, document in enumerate(documents):
            if not isinstance(document, dict):
                raise ValidationFailed("invalid_type", "each TaiLieuNop item must be an object", f"TaiLieuNop[{index}]")
            _text(document, "TenTaiLieu", required=True, prefix=f"TaiLieuNop[{index}].")

    _text(body, "DonViTiepNhan", required=False)

    url = _text(body, "callback_url", required=False, max_len=2000)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationFailed("invalid_url", "callback_url must be an absolute http(s) URL", "callback_url")
    cleaned["callback_url"] = url
    return cleaned
