"""A procedure's cross-field rules hold on the counter's page and in the API, with the message on the field."""

import json
import re
import uuid

import pytest
from sqlalchemy import func, select

from agents.dossiers.models import Dossier
from portal.core.db import read_only
from tests.factories import citizen, create_counter, setup_scope

TEMPORARY_RESIDENCE = "/dossiers/new/1.004194"


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Kim Mã")


def _dossiers() -> int:
    with read_only(setup_scope()) as session:
        return session.scalar(select(func.count()).select_from(Dossier))


def test_an_end_date_before_the_start_date_is_refused_on_the_end_date_and_nothing_is_saved(portal, counter):
    *_, staff = counter
    client = portal()
    client.sign_in(staff.email)
    before = _dossiers()
    typed = {
        **client.form_defaults(TEMPORARY_RESIDENCE),
        **citizen(),
        "form.temporary_address": "5 Kim Mã, Ba Đình",
        "form.from_date": "10/12/2026",
        "form.to_date": "01/12/2026",
    }
    refused = client.post_form(TEMPORARY_RESIDENCE, typed)
    assert refused.status_code == 422
    assert re.search(r'id="form.to_date-error"[^>]*>Ngày kết thúc tạm trú không được trước ngày bắt đầu<', refused.text)
    assert 'value="01/12/2026"' in refused.text
    assert _dossiers() == before
    accepted = client.post_form(TEMPORARY_RESIDENCE, {**typed, "form.to_date": "31/05/2027"})
    assert accepted.status_code == 303


def test_the_api_applies_the_same_rules(portal, counter):
    _, point, staff = counter
    client = portal()
    client.sign_in(staff.email)
    refused = client.post_json(
        "/api/v1/dossiers",
        {
            "procedure_code": "1.004194",
            "agent_point_id": str(point.id),
            "idempotency_key": uuid.uuid4().hex,
            "citizen": citizen(),
            "form": {"temporary_address": "5 Kim Mã", "from_date": "2026-12-10", "to_date": "2026-12-01"},
        },
    )
    assert refused.status_code == 422
    assert refused.json()["field_errors"] == {"form.to_date": "Ngày kết thúc tạm trú không được trước ngày bắt đầu"}
    catalogue = client.get("/api/v1/procedures").json()
    rules = next(p for p in catalogue if p["code"] == "1.004194")["form_schema"]["x-rules"]
    assert rules[0]["rule"] == "date_order" and rules[0]["after"] == "to_date"


def test_the_form_gives_the_browser_the_rules_in_the_readers_language_and_no_inline_code(portal, counter):
    *_, staff = counter
    client = portal()
    client.sign_in(staff.email)
    client.get("/lang/en")
    page = client.get(TEMPORARY_RESIDENCE).text
    rules = json.loads(re.search(r"data-rules='([^']*)'", page).group(1))
    assert rules == [
        {
            "rule": "date_order",
            "before": "from_date",
            "after": "to_date",
            "message": "The temporary residence cannot end before it starts",
        }
    ]
    assert 'data-field-prefix="form."' in page
    assert '<script src="/static/form-rules.js"></script>' in page
    assert client.get("/static/form-rules.js").status_code == 200
