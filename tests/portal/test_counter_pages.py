"""The counter's pages: sign in, file a dossier with the citizen, get the receipt."""

import re

import pytest
from sqlalchemy import select

from agents.dossiers.models import Dossier
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import BIRTH_FORM, citizen, create_partner, create_point, create_staff, ensure_procedures


@pytest.fixture(scope="module")
def counter():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Bưu điện Thử nghiệm")
    return partner, point, create_staff(point, partner)


def _audit(action: str, email: str) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        return [
            e
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
            if e.detail.get("email") == email or e.actor_label.endswith(f"<{email}>") or e.actor_label == email
        ]


def _filing(defaults, **overrides):
    data = {**defaults, **citizen(), **{f"form.{k}": v for k, v in BIRTH_FORM.items()}}
    data.update(overrides)
    return data


def test_pages_for_staff_send_a_stranger_to_sign_in(portal):
    response = portal().get("/dossiers", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


def test_a_wrong_password_is_refused_with_a_message_and_an_audit_entry(portal, counter):
    _, _, staff = counter
    response = portal().sign_in(staff.email, "wrong password")
    assert response.status_code == 401
    assert "Email hoặc mật khẩu không đúng" in response.text
    assert _audit("auth.sign_in_failed", staff.email)


def test_staff_sign_in_and_land_on_their_dossiers(portal, counter):
    _, _, staff = counter
    client = portal()
    response = client.sign_in(staff.email)
    assert response.status_code in (302, 303) and response.headers["location"] == "/dossiers"
    page = client.get("/dossiers")
    assert page.status_code == 200 and staff.full_name in page.text
    assert _audit("auth.sign_in", staff.email)


def test_a_form_post_without_the_csrf_token_is_refused(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    response = client.http.post("/dossiers/new/1.001193", data=citizen(), follow_redirects=False)
    assert response.status_code == 403


def test_filing_shows_errors_next_to_the_fields_and_keeps_what_was_typed(portal, counter):
    partner, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    defaults = client.form_defaults("/dossiers/new/1.001193")
    response = client.post_form(
        "/dossiers/new/1.001193", _filing(defaults, owner_id_number="0123", **{"form.mother_full_name": ""})
    )
    assert response.status_code == 422
    assert re.search(r'id="owner_id_number-error"[^>]*>Số CCCD phải gồm đúng 12 chữ số', response.text)
    assert re.search(r'id="form.mother_full_name-error"[^>]*>Bắt buộc nhập', response.text)
    assert 'value="Nguyễn Văn An"' in response.text  # nothing typed is lost
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        assert session.scalar(select(Dossier).where(Dossier.idempotency_key == defaults["idempotency_key"])) is None


def test_a_valid_filing_gives_a_receipt_and_a_double_click_files_once(portal, counter):
    partner, _point, staff = counter
    client = portal()
    client.sign_in(staff.email)
    data = _filing(client.form_defaults("/dossiers/new/1.001193"))
    first = client.post_form("/dossiers/new/1.001193", data)
    second = client.post_form("/dossiers/new/1.001193", data)
    assert first.status_code == 303 and second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    receipt = client.get(first.headers["location"])
    assert receipt.status_code == 200
    code = re.search(r'data-testid="tracking-code">([^<]+)<', receipt.text).group(1)
    assert code.startswith("HN-")
    assert "Bưu điện Thử nghiệm" in receipt.text and "Miễn phí" in receipt.text
    assert "/rate/" + code + "?token=" in receipt.text
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        assert len(session.scalars(select(Dossier).where(Dossier.tracking_code == code)).all()) == 1


def test_viewing_a_citizens_data_goes_on_the_record(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    location = client.post_form("/dossiers/new/1.001193", _filing(client.form_defaults("/dossiers/new/1.001193")))
    dossier_id = location.headers["location"].split("/")[2]
    assert client.get(f"/dossiers/{dossier_id}").status_code == 200
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        views = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "dossier.personal_data_viewed", AuditEvent.object_id == dossier_id
            )
        ).all()
    assert len(views) == 1
    assert client.get(f"/dossiers/{dossier_id}/receipt").status_code == 200
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        views = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "dossier.personal_data_viewed", AuditEvent.object_id == dossier_id
            )
        ).all()
    assert len(views) == 2
    assert {v.actor_id for v in views} == {staff.account_id}


def test_the_list_of_dossiers_shows_owners_names_and_that_view_is_recorded(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    client.post_form("/dossiers/new/1.001193", _filing(client.form_defaults("/dossiers/new/1.001193")))
    assert "Nguyễn Văn An" in client.get("/dossiers").text
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        views = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "dossier.list_viewed", AuditEvent.actor_id == staff.account_id
            )
        ).all()
    assert views and views[-1].detail["count"] >= 1
