"""One date format on every page, dd/mm/yyyy, in both languages; the JSON API keeps ISO 8601."""

import re
import uuid
from datetime import date

import pytest

from agents.procedures.catalogue import PROCEDURES
from portal.forms import DATE_HINT, parse_date, show_date
from tests.factories import BIRTH_FORM, citizen, create_counter, reload_dossier

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TODAY = date.today()


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Ngày Tháng")


def _signed_in(portal, staff, language="vi"):
    client = portal()
    client.sign_in(staff.email)
    client.get(f"/lang/{language}")
    return client


def _birth_registration(client, **typed):
    defaults = client.form_defaults("/dossiers/new/1.001193")
    form = {f"form.{name}": value for name, value in BIRTH_FORM.items()}
    form["form.child_birth_date"] = TODAY.strftime("%d/%m/%Y")
    return client.post_form(
        "/dossiers/new/1.001193", {**defaults, **citizen(owner_birth_date="03/02/1990"), **form, **typed}
    )


def test_dates_typed_dd_mm_yyyy_are_kept_as_dates_and_shown_dd_mm_yyyy(portal, counter):
    *_, staff = counter
    for language in ("vi", "en"):
        client = _signed_in(portal, staff, language)
        filed = _birth_registration(client)
        assert filed.status_code == 303, filed.text
        dossier_id = uuid.UUID(filed.headers["location"].split("/")[2])
        stored = reload_dossier(dossier_id)
        assert stored.owner_birth_date == date(1990, 2, 3)
        assert stored.form_data["child_birth_date"] == TODAY.isoformat()
        for url in (f"/dossiers/{dossier_id}/receipt", f"/dossiers/{dossier_id}"):
            page = client.get(url).text
            assert re.search(rf'data-testid="form-child_birth_date">{TODAY:%d/%m/%Y}<', page), (language, url)
            assert not ISO.search(page.split("<main>", 1)[1]), (language, url)
        receipt = client.get(f"/dossiers/{dossier_id}/receipt").text
        assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", receipt)  # when it was filed


def test_a_date_that_is_not_one_is_refused_with_the_format_to_use(portal, counter):
    *_, staff = counter
    client = _signed_in(portal, staff)
    refused = _birth_registration(client, owner_birth_date="31/02/1990", **{"form.child_birth_date": "1/13/2026"})
    assert refused.status_code == 422
    assert re.search(rf'id="owner_birth_date-error"[^>]*>{DATE_HINT}<', refused.text)
    assert re.search(rf'id="form.child_birth_date-error"[^>]*>{DATE_HINT}<', refused.text)
    assert 'value="31/02/1990"' in refused.text  # what was typed stays for correcting
    english = _signed_in(portal, staff, "en")
    assert (
        "Invalid date; type it as day/month/year, e.g. 31/12/1990"
        in _birth_registration(english, owner_birth_date="1990").text
    )


def test_every_date_input_asks_for_dd_mm_yyyy_whatever_the_browsers_language(portal, counter):
    *_, staff = counter
    client = _signed_in(portal, staff, "en")
    for procedure in PROCEDURES:
        page = client.get(f"/dossiers/new/{procedure['code']}").text
        assert 'type="date"' not in page
        dates = ["owner_birth_date"] + [
            f"form.{name}"
            for name, spec in procedure["form_schema"]["properties"].items()
            if spec.get("format") == "date"
        ]
        for name in dates:
            field = re.search(rf'<input id="{re.escape(name)}"[^>]*>', page).group(0)
            assert 'type="text"' in field and 'placeholder="dd/mm/yyyy"' in field and 'data-kind="date"' in field


def test_the_json_api_takes_and_gives_iso_8601(portal, counter):
    _, point, staff = counter
    client = _signed_in(portal, staff)
    body = {
        "procedure_code": "1.001193",
        "agent_point_id": str(point.id),
        "citizen": citizen(),
        "form": dict(BIRTH_FORM),
    }
    created = client.post_json("/api/v1/dossiers", {**body, "idempotency_key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    assert re.match(r"\d{4}-\d{2}-\d{2}T", created.json()["submitted_at"])
    for not_iso in ("03/02/1990", "19900203"):
        refused = client.post_json(
            "/api/v1/dossiers",
            {**body, "idempotency_key": uuid.uuid4().hex, "citizen": citizen(owner_birth_date=not_iso)},
        )
        assert refused.status_code == 422 and "owner_birth_date" in refused.json()["field_errors"], not_iso


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("03/02/1990", date(1990, 2, 3)),
        ("3/2/1990", date(1990, 2, 3)),
        ("03.02.1990", date(1990, 2, 3)),
        ("03-02-1990", date(1990, 2, 3)),
        (" 29/02/2024 ", date(2024, 2, 29)),
        ("1990-02-03", date(1990, 2, 3)),  # pasted from a system that writes ISO
        ("29/02/2023", None),
        ("02/31/1990", None),
        ("1990", None),
        ("19900203", None),
        ("", None),
    ],
)
def test_what_counts_as_a_typed_date(typed, meant):
    assert parse_date(typed) == meant


def test_dates_are_shown_day_first():
    assert show_date(date(2026, 1, 9)) == "09/01/2026"
    assert show_date("2026-01-09") == "09/01/2026"
    assert show_date("Hà Nội") == "Hà Nội"
