"""The real Hanoi procedures the demo is seeded with (see shared/domain/README.md).

Processing times and fees marked unverified there are plausible values, to be
checked against the national database before production. Citizens see the fee
note on their receipt: an unverified fee says so in words they can act on
(`UNVERIFIED_FEE`), never as our own checking mark.
"""

from __future__ import annotations

from typing import Any

from agents.procedures.rules import RULES_KEY
from portal.core.i18n import N_


def _s(title: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, "maxLength": 200, **extra}


def _date(title: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "title": title}


def _int(title: str, minimum: int = 0, maximum: int = 1_000_000_000_000) -> dict[str, Any]:
    return {"type": "integer", "title": title, "minimum": minimum, "maximum": maximum}


def _schema(
    required: list[str], *, rules: tuple[dict[str, Any], ...] = (), **properties: dict[str, Any]
) -> dict[str, Any]:
    """A form's JSON Schema; `rules` are its cross-field rules (agents/procedures/rules.py)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if rules:
        schema[RULES_KEY] = list(rules)
    return schema


def _docs(*names: str) -> list[dict[str, Any]]:
    """Required documents: an original each, one copy, mandatory unless the name says "(nếu ...)"."""
    return [
        {
            "name": name,
            "original": not name.lower().startswith("bản sao"),
            "mandatory": "(nếu" not in name.lower(),
            "count": 1,
        }
        for name in names
    ]


CCCD = {"pattern": r"^\d{12}$"}

UNVERIFIED_FEE = N_(
    "Mức lệ phí chưa được đối chiếu với Cơ sở dữ liệu quốc gia về thủ tục hành chính; "
    "cơ quan giải quyết sẽ thông báo mức thu chính xác"
)

PROCEDURES: list[dict[str, Any]] = [
    {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {"kind": "none"},
        "city_charges": "none",
        "fee_note": N_("Miễn lệ phí khi đăng ký đúng hạn (trong 60 ngày kể từ ngày sinh)"),
        "required_documents": _docs("Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Văn bản ủy quyền (nếu nộp thay)"),
        "form_schema": _schema(
            ["child_full_name", "child_birth_date", "child_sex", "birth_place", "mother_full_name"],
            child_full_name=_s("Họ và tên trẻ"),
            child_birth_date=_date("Ngày sinh của trẻ"),
            child_sex={"type": "string", "title": "Giới tính", "enum": ["Nam", "Nữ"]},
            birth_place=_s("Nơi sinh"),
            mother_full_name=_s("Họ và tên mẹ"),
            father_full_name=_s("Họ và tên cha"),
        ),
    },
    {
        "code": "1.004222",
        "name": "Đăng ký thường trú",
        "field_code": "CT",
        "field_name": "Cư trú",
        "handled_by": "Công an cấp xã",
        "processing_days": 7,
        "fee_rules": {"kind": "fixed", "amount_vnd": 20000, "online_amount_vnd": 10000},
        "city_charges": "before",
        "fee_note": N_("20.000 đồng nộp trực tiếp; 10.000 đồng nộp trực tuyến"),
        "required_documents": _docs("Tờ khai thay đổi thông tin cư trú (CT01)", "Giấy tờ chứng minh chỗ ở hợp pháp"),
        "form_schema": _schema(
            ["new_address", "household_head_name", "relationship_to_head"],
            new_address=_s("Địa chỉ đăng ký thường trú"),
            household_head_name=_s("Họ tên chủ hộ"),
            relationship_to_head=_s("Quan hệ với chủ hộ"),
            reason=_s("Lý do"),
        ),
    },
    {
        "code": "1.004194",
        "name": "Đăng ký tạm trú",
        "field_code": "CT",
        "field_name": "Cư trú",
        "handled_by": "Công an cấp xã",
        "processing_days": 3,
        "fee_rules": {"kind": "none"},
        "city_charges": "none",
        "fee_note": UNVERIFIED_FEE,
        "required_documents": _docs("Tờ khai thay đổi thông tin cư trú (CT01)", "Giấy tờ chứng minh chỗ ở hợp pháp"),
        "form_schema": _schema(
            ["temporary_address", "from_date"],
            rules=(
                {
                    "rule": "date_order",
                    "before": "from_date",
                    "after": "to_date",
                    "message": N_("Ngày kết thúc tạm trú không được trước ngày bắt đầu"),
                },
            ),
            temporary_address=_s("Địa chỉ tạm trú"),
            from_date=_date("Tạm trú từ ngày"),
            to_date=_date("Đến ngày"),
            reason=_s("Lý do"),
        ),
    },
    {
        "code": "1.001612",
        "name": "Đăng ký thành lập hộ kinh doanh",
        "field_code": "HKD",
        "field_name": "Thành lập và hoạt động của hộ kinh doanh",
        "handled_by": "Phòng đăng ký kinh doanh cấp xã",
        "processing_days": 3,
        "fee_rules": {"kind": "fixed", "amount_vnd": 50000},
        "city_charges": "before",
        "fee_note": N_("50.000 đồng nộp trực tiếp (mức thu địa phương có thể khác)"),
        "required_documents": _docs(
            "Giấy đề nghị đăng ký hộ kinh doanh", "Biên bản họp thành viên hộ gia đình (nếu có)"
        ),
        "form_schema": _schema(
            ["business_name", "business_address", "business_lines", "capital_vnd"],
            business_name=_s("Tên hộ kinh doanh"),
            business_address=_s("Địa điểm kinh doanh"),
            business_lines=_s("Ngành, nghề kinh doanh"),
            capital_vnd=_int("Vốn kinh doanh (đồng)"),
            employees=_int("Số lao động", 0, 10000),
        ),
    },
    {
        "code": "2.000815",
        "name": "Chứng thực bản sao từ bản chính",
        "field_code": "CTH",
        "field_name": "Chứng thực",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {
            "kind": "per_page",
            "amount_vnd": 2000,
            "page_field": "pages",
            "first_pages": 2,
            "later_page_vnd": 1000,
            "copies_field": "copies",
        },
        "city_charges": "before",
        "fee_note": N_("2.000 đồng/trang; từ trang thứ ba 1.000 đồng/trang"),
        "required_documents": _docs("Bản chính giấy tờ", "Bản sao cần chứng thực"),
        "form_schema": _schema(
            ["document_name", "pages", "copies"],
            document_name=_s("Tên giấy tờ"),
            pages=_int("Số trang", 1, 500),
            copies=_int("Số bản", 1, 100),
        ),
    },
    {
        "code": "2.000884",
        "name": "Chứng thực chữ ký",
        "field_code": "CTH",
        "field_name": "Chứng thực",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {"kind": "fixed", "amount_vnd": 10000},
        "city_charges": "before",
        "fee_note": UNVERIFIED_FEE,
        "required_documents": _docs("Giấy tờ cần chứng thực chữ ký"),
        "form_schema": _schema(
            ["document_name"],
            document_name=_s("Tên giấy tờ, văn bản"),
            signers=_int("Số người ký", 1, 50),
        ),
    },
    {
        "code": "1.000894",
        "name": "Đăng ký kết hôn",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {"kind": "none"},
        "city_charges": "none",
        "fee_note": UNVERIFIED_FEE,
        "required_documents": _docs("Tờ khai đăng ký kết hôn", "Giấy xác nhận tình trạng hôn nhân"),
        "form_schema": _schema(
            ["spouse_full_name", "spouse_id_number", "spouse_birth_date"],
            spouse_full_name=_s("Họ tên bên kia"),
            spouse_id_number=_s("Số định danh bên kia", **CCCD),
            spouse_birth_date=_date("Ngày sinh bên kia"),
        ),
    },
    {
        "code": "1.000656",
        "name": "Đăng ký khai tử",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "handled_by": "UBND cấp xã",
        "processing_days": 1,
        "fee_rules": {"kind": "none"},
        "city_charges": "none",
        "fee_note": UNVERIFIED_FEE,
        "required_documents": _docs("Tờ khai đăng ký khai tử", "Giấy báo tử hoặc giấy tờ thay thế"),
        "form_schema": _schema(
            ["deceased_full_name", "date_of_death", "place_of_death"],
            deceased_full_name=_s("Họ tên người chết"),
            deceased_id_number=_s("Số định danh người chết", **CCCD),
            date_of_death=_date("Ngày chết"),
            place_of_death=_s("Nơi chết"),
        ),
    },
    {
        "code": "2.001417",
        "name": "Cấp phiếu lý lịch tư pháp",
        "field_code": "LLTP",
        "field_name": "Lý lịch tư pháp",
        "handled_by": "Sở Tư pháp / Công an tỉnh",
        "processing_days": 10,
        "fee_rules": {"kind": "fixed", "amount_vnd": 200000},
        "city_charges": "before",
        "fee_note": N_(
            "Mức lệ phí chưa được đối chiếu với Cơ sở dữ liệu quốc gia về thủ tục hành chính; "
            "cơ quan giải quyết sẽ thông báo mức thu chính xác. Thời hạn giải quyết có thể tới 15 ngày"
        ),
        "required_documents": _docs("Tờ khai yêu cầu cấp phiếu lý lịch tư pháp"),
        "form_schema": _schema(
            ["certificate_type", "purpose"],
            certificate_type={"type": "string", "title": "Loại phiếu", "enum": ["Phiếu số 1", "Phiếu số 2"]},
            purpose=_s("Mục đích sử dụng"),
            copies=_int("Số bản", 1, 10),
        ),
    },
]
