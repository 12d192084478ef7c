"""The JSON API answers exactly as its OpenAPI description (/schema/openapi.json) says (issue #7 items 10, 15).

Schemathesis reads the description the portal serves, generates requests for
every JSON operation (valid ones and broken ones) and runs all of its checks on
each answer: no 5xx, only declared status codes, content types and headers,
bodies that match their declared schema, valid input accepted, invalid input
refused, authentication really enforced, `Allow` on 405 and OPTIONS answers.
It calls as a partner system (a bearer token from /api/oauth/token) with a CSRF
token as well, so that the public endpoints under the CSRF check are reached.

Bounded and repeatable: a fixed number of examples per operation and
derandomised generation (the same requests on every run), on SQLite and on
PostgreSQL (row-level security on), like the rest of the suite.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from litestar.testing import TestClient

from agents.api_clients import service as api_clients
from agents.staff.models import Role
from portal.app import create_app
from portal.core.db import unit_of_work
from portal.exceptions import answers_json
from tests.factories import create_partner, create_person, create_point, ensure_procedures

MAX_EXAMPLES = int(
    os.environ.get("API_CONFORMANCE_EXAMPLES", "30")
)  # per operation: the whole module stays well within a minute on a busy machine

# Filing is refused (422) for bodies the schema allows but the procedure's own form does not: the
# form's schema is per procedure (GET /api/v1/procedures gives each one) and the citizen's data is
# checked by rules (ID number, dates, phone) that one static body schema cannot carry.
FORM_CHECKED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "operations": [
            {
                "include-path": "/api/v1/dossiers",
                "include-method": "POST",
                "checks": {"positive_data_acceptance": {"expected-statuses": FORM_CHECKED}},
            }
        ],
    }
)

APP = create_app()


def _json_api() -> schemathesis.BaseSchema:
    """The description the portal serves, its JSON operations only (pages are for browsers)."""
    described = TestClient(APP).get("/schema/openapi.json").json()
    described["paths"] = {path: item for path, item in described["paths"].items() if answers_json(path)}
    loaded = schemathesis.openapi.from_dict(described, config=CONFIG)
    loaded.app = APP
    return loaded


schema = _json_api()


@pytest.fixture(scope="module")
def partner_system() -> dict[str, str]:
    """Headers and cookies of a partner system's calls: its bearer token, and a CSRF token pair."""
    ensure_procedures()
    partner = create_partner(name="Ngân hàng Kiểm thử")
    point = create_point(partner, name="Chi nhánh Kiểm thử")
    manager = create_person((Role.partner_manager, partner, None))
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        client, secret = api_clients.register_client(
            session,
            manager,
            name="Phần mềm kiểm thử",
            scopes=["dossiers:write", "dossiers:read", "payments"],  # every scope: each operation is reached
            agent_point_id=point.id,
        )
    http = TestClient(APP)
    answer = http.post("/api/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, secret))
    assert answer.status_code == 200, answer.text
    http.get("/login")
    return {"token": answer.json()["access_token"], "csrf": http.cookies["csrftoken"]}


@schema.parametrize()
def test_every_json_operation_answers_as_described(case, partner_system):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {partner_system['token']}", "x-csrftoken": partner_system["csrf"]},
        cookies={"csrftoken": partner_system["csrf"]},
    )
