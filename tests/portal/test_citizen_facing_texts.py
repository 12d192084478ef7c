"""What the portal tells citizens is true: opening hours, fees."""

import pytest
from sqlalchemy import select

from agents.procedures import publishing
from agents.procedures.catalogue import PROCEDURES
from agents.procedures.models import Procedure
from agents.seed import seed_procedures
from portal.core.db import read_only, unit_of_work
from portal.i18n import catalogue
from tests.factories import citizen, create_counter, setup_scope


def test_the_home_page_promises_only_what_is_true_at_night(portal):
    client = portal()
    home = client.get("/").text
    assert "24/7" not in home
    assert "Tra cứu và đánh giá hồ sơ trực tuyến vào bất cứ lúc nào" in home
    assert "theo giờ mở cửa của từng điểm" in home
    client.get("/lang/en")
    english = client.get("/").text
    assert "24/7" not in english
    assert "Track and rate your dossier online at any hour" in english
    assert "during its own opening hours" in english


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Cầu Giấy")


def test_a_receipt_never_shows_a_citizen_our_own_data_checking_marks(portal, counter):
    *_, staff = counter
    client = portal()
    client.sign_in(staff.email)
    defaults = client.form_defaults("/dossiers/new/1.004194")  # temporary residence: fee not verified yet
    filed = client.post_form(
        "/dossiers/new/1.004194",
        {**defaults, **citizen(), "form.temporary_address": "5 Kim Mã, Ba Đình", "form.from_date": "01/12/2026"},
    )
    assert filed.status_code == 303, filed.text
    receipt = client.get(filed.headers["location"]).text
    assert "Chưa xác minh" not in receipt
    assert "Mức lệ phí chưa được đối chiếu với Cơ sở dữ liệu quốc gia" in receipt


def test_no_seeded_procedure_tells_citizens_it_is_unverified():
    for procedure in PROCEDURES:
        assert "chưa xác minh" not in procedure["fee_note"].lower(), procedure["code"]
        assert not procedure["fee_note"] or catalogue("en").gettext(procedure["fee_note"]) != procedure["fee_note"], (
            procedure["code"]
        )


def test_seeding_brings_an_older_catalogue_up_to_date_with_a_new_version():
    wanted = next(p for p in PROCEDURES if p["code"] == "1.004194")
    with unit_of_work(setup_scope()) as session:
        seed_procedures(session)
        older = {**wanted, "fee_note": "Chưa xác minh", "form_schema": {**wanted["form_schema"], "x-rules": []}}
        stale = publishing.publish(session, None, older)
    with unit_of_work(setup_scope()) as session:
        seed_procedures(session)
    with read_only(setup_scope()) as session:
        current = session.scalar(select(Procedure).where(Procedure.code == "1.004194")).current
        assert current.number == stale.number + 1
        assert current.fee_note == wanted["fee_note"]
        assert current.form_schema == wanted["form_schema"]
