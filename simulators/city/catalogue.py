"""Procedures (TTHC) known to the simulated city system.

Procedure codes are those of the national public-service catalogue used by
Hanoi.  The field (lĩnh vực) codes are plausible stand-ins: the real ones were
not available when the simulator was written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Procedure:
    code: str  # MaTTHC
    name: str  # TenTTHC
    field_code: str  # MaLinhVuc
    field_name: str  # TenLinhVuc
    working_days: int  # SoNgayXuLy
    fee: int  # LePhi, VND

    def as_item(self) -> dict[str, object]:
        return {
            "MaTTHC": self.code,
            "TenTTHC": self.name,
            "MaLinhVuc": self.field_code,
            "TenLinhVuc": self.field_name,
            "SoNgayXuLy": self.working_days,
            "LePhi": self.fee,
        }


_HO_TICH = ("BTP-HT", "Hộ tịch")
_CU_TRU = ("BCA-CT", "Cư trú")
_HKD = ("HKD", "Thành lập và hoạt động của hộ kinh doanh")
_CHUNG_THUC = ("BTP-CTH", "Chứng thực")
_LLTP = ("BTP-LLTP", "Lý lịch tư pháp")

PROCEDURES: tuple[Procedure, ...] = (
    Procedure("1.001193", "Đăng ký khai sinh", *_HO_TICH, 1, 0),
    Procedure("1.000894", "Đăng ký kết hôn", *_HO_TICH, 1, 0),
    Procedure("1.000656", "Đăng ký khai tử", *_HO_TICH, 1, 0),
    Procedure("1.004222", "Đăng ký thường trú", *_CU_TRU, 7, 20000),
    Procedure("1.004194", "Đăng ký tạm trú", *_CU_TRU, 3, 0),
    Procedure("1.001612", "Đăng ký thành lập hộ kinh doanh", *_HKD, 3, 50000),
    Procedure("2.000815", "Chứng thực bản sao từ bản chính", *_CHUNG_THUC, 1, 2000),
    Procedure("2.000884", "Chứng thực chữ ký", *_CHUNG_THUC, 1, 10000),
    Procedure("2.001417", "Cấp phiếu lý lịch tư pháp", *_LLTP, 10, 200000),
)

BY_CODE: dict[str, Procedure] = {p.code: p for p in PROCEDURES}
