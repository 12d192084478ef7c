"""The center's catalogue pages: publish a version by the form, import a file with its row-by-row report."""

import json
import uuid

import pytest

from agents.staff.models import Role
from tests.factories import PASSWORD, create_counter, create_person

FORM = {"type": "object", "properties": {"document_name": {"type": "string", "title": "Tên giấy tờ"}}, "required": []}


@pytest.fixture
def center(portal):
    admin = create_person((Role.center_admin, None, None))
    client = portal()
    client.sign_in(admin.email, PASSWORD)
    return client


def _code() -> str:
    return f"6.{uuid.uuid4().int % 1_000_000:06d}"


def _fields(code: str, **changes: str) -> dict[str, str]:
    return {
        "code": code,
        "name": "Thủ tục từ trang",
        "field_code": "X",
        "field_name": "Thử",
        "handled_by": "UBND cấp xã",
        "processing_days": "3",
        "city_charges": "before",
        "fee_rules": json.dumps({"kind": "fixed", "amount_vnd": 15000}),
        "required_documents": json.dumps([{"name": "Tờ khai", "original": True, "mandatory": True, "count": 1}]),
        "form_schema": json.dumps(FORM, ensure_ascii=False),
        **changes,
    }


def test_a_version_is_published_by_the_form_and_shown_in_its_history(center):
    code = _code()
    published = center.post_form("/center/procedures/", _fields(code))
    assert published.status_code == 201 and f"Đã công bố {code}, phiên bản 1" in published.text
    again = center.post_form("/center/procedures/", _fields(code, name="Thủ tục từ trang (sửa)"))
    assert "phiên bản 2" in again.text
    history = center.get(f"/center/procedures/{code}")
    assert history.status_code == 200 and history.text.count('data-testid="version"') == 2


def test_a_bad_form_is_refused_naming_each_field_and_nothing_is_published(center):
    code = _code()
    refused = center.post_form(
        "/center/procedures/",
        _fields(
            code, fee_rules='{"kind": "fixed", "amount_vnd": -5}', form_schema="{not json", effective_from="2020-01-01"
        ),
    )
    assert refused.status_code == 422
    assert "Ô không phải JSON hợp lệ" in refused.text
    assert center.get(f"/center/procedures/{code}").status_code == 404


def test_a_file_is_checked_then_its_valid_rows_imported(center):
    good, bad = _code(), _code()
    rows = [json.loads(json.dumps(_fields(good))), _fields(bad, processing_days="many")]
    for row in rows:
        for key in ("fee_rules", "required_documents", "form_schema"):
            row[key] = json.loads(row[key])
    content = json.dumps(rows, ensure_ascii=False).encode()
    checked = center.http.post(
        "/center/procedures/import",
        data={"_csrf_token": center.csrf, "mode": "check"},
        files=[("file", ("catalogue.json", content, "application/json"))],
    )
    assert checked.status_code == 422
    assert 'data-row="2"' in checked.text and "processing_days" in checked.text
    assert "Chỉ kiểm tra: chưa lưu gì." in checked.text
    imported = center.http.post(
        "/center/procedures/import",
        data={"_csrf_token": center.csrf, "mode": "valid"},
        files=[("file", ("catalogue.json", content, "application/json"))],
    )
    assert imported.status_code == 200 and f"{good} (phiên bản 1)" in imported.text
    assert center.get(f"/center/procedures/{bad}").status_code == 404


def test_a_partners_people_do_not_reach_the_catalogue_pages(portal):
    *_, staff = create_counter("Bưu điện danh mục trang")
    client = portal()
    client.sign_in(staff.email, PASSWORD)
    assert client.get("/center/procedures/").status_code in (403, 404)
    assert client.post_form("/center/procedures/", _fields(_code())).status_code in (403, 404)
