"""The counter records how the citizen wants to be told; the dossier page shows each message's delivery."""

import re
import uuid
from datetime import UTC, datetime

import pytest

from agents.city.wire import CityUpdate
from agents.dossiers import city_status
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import BIRTH_FORM, citizen, create_counter, reload_dossier


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Thông báo")


def _filing(defaults, **overrides):
    data = {**defaults, **citizen(), **{f"form.{k}": v for k, v in BIRTH_FORM.items()}}
    data["owner_birth_date"] = "03/02/1990"
    data["form.child_birth_date"] = datetime.now(UTC).strftime("%d/%m/%Y")
    data.update(overrides)
    return data


def _city_says(tracking_code: str, status: int, seq: int) -> None:
    report = CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), tracking_code=tracking_code)
    with unit_of_work(Scope.network("test: city callbacks", actor_label="city system")) as session:
        assert city_status.apply_city_update(session, report).value == "applied"


def test_the_counter_records_the_citizens_channels_and_the_dossier_page_shows_each_message(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    data = _filing(client.form_defaults("/dossiers/new/1.001193"), notify_sms="on", notify_email="an.nguyen@example.vn")
    filed = client.post_form("/dossiers/new/1.001193", data)
    assert filed.status_code == 303, filed.text
    dossier_id = uuid.UUID(re.search(r"/dossiers/([0-9a-f-]+)/receipt", filed.headers["location"]).group(1))
    stored = reload_dossier(dossier_id)
    assert (stored.notify_sms, stored.notify_email) == (True, "an.nguyen@example.vn")

    page = client.get(f"/dossiers/{dossier_id}")
    assert "an.nguyen@example.vn" in page.text and "Chưa có tin nào" in page.text
    _city_says(stored.tracking_code, 1, 1)
    _city_says(stored.tracking_code, 2, 2)
    page = client.get(f"/dossiers/{dossier_id}")
    states = re.findall(r'data-testid="notification-state">([^<(]+)', page.text)
    assert [s.strip() for s in states] == ["Đang chờ gửi", "Đang chờ gửi"]  # one SMS, one email


def test_a_bad_address_is_shown_next_to_the_field_and_what_was_typed_is_kept(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    data = _filing(client.form_defaults("/dossiers/new/1.001193"), notify_email="an.nguyen@")
    refused = client.post_form("/dossiers/new/1.001193", data)
    assert refused.status_code == 422
    assert "Địa chỉ email không hợp lệ" in refused.text and 'value="an.nguyen@"' in refused.text


def test_the_api_takes_the_choice_and_shows_the_messages(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    body = {
        "procedure_code": "1.001193",
        "idempotency_key": uuid.uuid4().hex,
        "citizen": citizen(),
        "form": BIRTH_FORM,
        "notify": {"sms": True, "email": None},
    }
    filed = client.post_json("/api/v1/dossiers", body)
    assert filed.status_code == 201, filed.text
    dossier = filed.json()
    assert dossier["notifications"] == []
    _city_says(dossier["tracking_code"], 1, 1)
    _city_says(dossier["tracking_code"], 2, 2)
    shown = client.get(f"/api/v1/dossiers/{dossier['id']}").json()
    assert [(n["channel"], n["status"], n["state"], n["sent_at"]) for n in shown["notifications"]] == [
        ("sms", 2, "pending", None)
    ]
    bad = client.post_json("/api/v1/dossiers", {**body, "idempotency_key": uuid.uuid4().hex, "notify": {"email": "x"}})
    assert bad.status_code == 422 and "notify.email" in bad.json()["field_errors"]
