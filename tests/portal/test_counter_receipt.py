"""The receipt: a page and an A5 PDF with the tracking QR, the documents received and the due date in working days."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import delete

from agents.dossiers.models import Dossier
from agents.procedures.calendar import WorkingCalendar, expected_result_date
from agents.procedures.models import CalendarOverride
from portal.core.db import unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import BIRTH_FORM, citizen, create_counter, setup_scope

BIRTH = "1.001193"


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Biên nhận")


def _file(portal, staff) -> tuple:
    client = portal()
    client.sign_in(staff.email)
    data = {
        **client.form_defaults(f"/dossiers/new/{BIRTH}"),
        **citizen(),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
    }
    filed = client.post_form(f"/dossiers/new/{BIRTH}", data)
    assert filed.status_code == 303, filed.text[:500]
    return client, uuid.UUID(filed.headers["location"].split("/")[2])


def _dossier(partner, dossier_id) -> Dossier:
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        dossier = session.get(Dossier, dossier_id)
        session.expunge(dossier)
        return dossier


def test_the_receipt_page_has_the_tracking_qr_the_documents_and_the_expected_result_date(portal, counter):
    partner, _, staff = counter
    client, dossier_id = _file(portal, staff)
    dossier = _dossier(partner, dossier_id)
    assert dossier.expected_result_date == expected_result_date(dossier.submitted_at, 1, WorkingCalendar())
    page = client.get(f"/dossiers/{dossier_id}/receipt").text
    track_url = f"{get_settings().web.public_url}/track?code={dossier.tracking_code}"
    assert re.search(r'data-testid="tracking-qr"><svg', page) and track_url in page
    assert dossier.expected_result_date.strftime("%d/%m/%Y") in page
    assert "Tờ khai đăng ký khai sinh: bản số hóa, 1 trang" in page and "Giấy chứng sinh: bản số hóa, 1 trang" in page
    assert "001090012345" not in page and "••••••••2345" in page  # the owner's numbers, masked
    assert "nhân viên đại lý hỗ trợ công dân miễn phí" in page
    assert 'data-testid="counter-time"' in page


def test_the_receipt_pdf_is_a5_in_vietnamese_and_its_view_is_on_the_record(portal, counter):
    partner, _, staff = counter
    client, dossier_id = _file(portal, staff)
    dossier = _dossier(partner, dossier_id)
    response = client.get(f"/dossiers/{dossier_id}/receipt.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    width, height = (float(v) for v in pdf.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)  # A5, in millimetres
    text = "\n".join(p.extract_text() for p in pdf.pages)
    for expected in ("Biên nhận hồ sơ", dossier.tracking_code, "Ngày hẹn trả kết quả", "Đăng ký khai sinh",
                     dossier.expected_result_date.strftime("%d/%m/%Y"), "Bưu điện Biên nhận"):  # fmt: skip
        assert expected in text, expected
    other = portal()
    elsewhere = create_counter()
    other.sign_in(elsewhere[2].email)
    assert other.get(f"/dossiers/{dossier_id}/receipt.pdf").status_code == 404


def test_a_day_the_center_decrees_off_moves_the_expected_result_date(portal, counter):
    partner, _, staff = counter
    _, first = _file(portal, staff)
    due = _dossier(partner, first).expected_result_date
    with unit_of_work(setup_scope()) as session:
        session.add(CalendarOverride(day=due, kind="day_off", reason="Nghỉ bù (thử)"))
    try:
        _, second = _file(portal, staff)
        moved = _dossier(partner, second).expected_result_date
        assert moved > due and moved <= due + timedelta(days=5)
    finally:
        with unit_of_work(setup_scope()) as session:
            session.execute(delete(CalendarOverride).where(CalendarOverride.day == due))
