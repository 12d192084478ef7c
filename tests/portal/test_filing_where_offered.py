"""Only approved, open points file, and only the procedures the point offers: at the counter and on the API.

A point offers what its partner's manager chose among the procedures the center enabled for
the partner. The counter's pages offer only those; the page and the partner API refuse
anything else with a message saying why, and nothing is saved.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agents.api_clients import service as api_clients
from agents.dossiers import filing
from agents.dossiers.models import Dossier
from agents.partners.models import Partner
from agents.points import hours, offer
from agents.points.models import AgentPoint, AgentPointStatus
from agents.staff.models import Role
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import (
    BIRTH_FORM,
    citizen,
    create_partner,
    create_person,
    create_point,
    ensure_procedures,
    setup_scope,
)

BIRTH = "1.001193"
OTHER = "2.000815"


@pytest.fixture(scope="module")
def network():  # type: ignore[no-untyped-def]
    """Point «all» offers the partner's whole catalogue; point «other» offers one procedure, not the birth one."""
    ensure_procedures()
    partner = create_partner(name="Bưu điện chọn thủ tục (thử)")
    everything = create_point(partner, name="Điểm nhận mọi thủ tục")
    other = create_point(partner, name="Điểm chỉ nhận một thủ tục")
    manager = create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản")
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        offer.set_offered(session, manager, other.id, [OTHER])
    return {
        "partner": partner,
        "all": everything,
        "other": other,
        "manager": manager,
        "at_other": create_person((Role.agent_staff, partner, other), name="Nhân viên điểm một thủ tục"),
        "at_both": create_person(
            (Role.agent_staff, partner, everything), (Role.agent_staff, partner, other), name="Nhân viên hai điểm"
        ),
    }


def _signed_in(portal, person):  # type: ignore[no-untyped-def]
    client = portal()
    assert client.sign_in(person.email).status_code in (302, 303)
    return client


def _filing(point_id: uuid.UUID | None, code: str = BIRTH) -> dict:
    body = {"procedure_code": code, "idempotency_key": uuid.uuid4().hex, "citizen": citizen(), "form": dict(BIRTH_FORM)}
    if point_id is not None:
        body["agent_point_id"] = str(point_id)
    return body


def _dossiers_at(point_id: uuid.UUID) -> int:
    with read_only(Scope.network("test counts dossiers", actor_label="test")) as session:
        return session.scalar(select(func.count(Dossier.id)).where(Dossier.agent_point_id == point_id))


def test_the_counter_offers_only_the_procedures_its_points_offer(portal, network):
    page = _signed_in(portal, network["at_other"]).get("/dossiers/new")
    assert page.status_code == 200
    assert f'data-code="{OTHER}"' in page.text and f'data-code="{BIRTH}"' not in page.text


def test_a_procedure_none_of_the_staffs_points_offers_cannot_be_started(portal, network):
    client = _signed_in(portal, network["at_other"])
    refused = client.get(f"/dossiers/new/{BIRTH}", follow_redirects=False)
    assert refused.status_code == 409
    assert "Không điểm đại lý nào của bạn nhận thủ tục 1.001193" in refused.text


def test_the_filing_page_lists_only_the_points_that_offer_its_procedure(portal, network):
    client = _signed_in(portal, network["at_both"])
    page = client.get(f"/dossiers/new/{BIRTH}")
    assert page.status_code == 200
    assert str(network["all"].id) in page.text and str(network["other"].id) not in page.text
    both = client.get(f"/dossiers/new/{OTHER}")
    assert str(network["all"].id) in both.text and str(network["other"].id) in both.text


def test_the_page_refuses_a_point_that_does_not_offer_the_procedure_and_saves_nothing(portal, network):
    client = _signed_in(portal, network["at_both"])
    opened = client.get(f"/dossiers/new/{BIRTH}")
    draft = opened.url.path
    client.attach_scans(draft, opened.text)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', opened.text).group(1)
    before = _dossiers_at(network["other"].id)
    data = {
        "idempotency_key": key,
        "agent_point_id": str(network["other"].id),  # a point of the person's that does not offer it
        **citizen(),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
    }
    refused = client.post_form(f"{draft}/submit", data)
    assert refused.status_code == 422
    assert "Điểm đại lý này không nhận thủ tục này" in refused.text
    assert _dossiers_at(network["other"].id) == before


def test_the_api_refuses_a_procedure_the_point_does_not_offer_naming_the_field(portal, network):
    client = _signed_in(portal, network["at_both"])
    before = _dossiers_at(network["other"].id)
    refused = client.post_json("/api/v1/dossiers", _filing(network["other"].id))
    assert refused.status_code == 422, refused.text
    assert refused.json()["field_errors"] == {"procedure_code": filing.NOT_OFFERED}
    assert _dossiers_at(network["other"].id) == before
    filed = client.post_json("/api/v1/dossiers", _filing(network["all"].id))
    assert filed.status_code == 201, filed.text


def test_a_partner_systems_client_bound_to_the_point_is_refused_the_same_way(portal, network):
    manager = network["manager"]
    with unit_of_work(manager.partner_scope(network["partner"].id)) as session:
        client, secret = api_clients.register_client(
            session,
            manager,
            name="Phần mềm điểm một thủ tục",
            scopes=["dossiers:write"],
            agent_point_id=network["other"].id,
        )
    http = portal().http
    token = http.post(
        "/api/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, secret)
    ).json()["access_token"]
    refused = http.post("/api/v1/dossiers", json=_filing(None), headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["field_errors"]["procedure_code"].startswith("Điểm đại lý này không nhận thủ tục này")


@pytest.fixture
def counter():  # type: ignore[no-untyped-def]
    """A partner of its own, one point, one person filing there (each test changes them)."""
    ensure_procedures()
    partner = create_partner(name="Bưu điện chỉ nhận khi mở (thử)")
    point = create_point(partner, name="Điểm đóng mở (thử)")
    return partner, point, create_person((Role.agent_staff, partner, point), name="Nhân viên đóng mở")


@pytest.mark.parametrize("status", [AgentPointStatus.pending, AgentPointStatus.closed])
def test_a_point_not_approved_or_closed_does_not_file_on_the_api(portal, counter, status):
    _, point, staff = counter
    with unit_of_work(setup_scope()) as session:
        session.get(AgentPoint, point.id).status = status
    refused = _signed_in(portal, staff).post_json("/api/v1/dossiers", _filing(point.id))
    assert refused.status_code == 403, refused.text
    assert "chưa được Trung tâm phê duyệt" in refused.json()["message"]
    assert _dossiers_at(point.id) == 0


def test_a_point_closed_today_does_not_file_on_the_api_and_says_why(portal, counter):
    partner, point, staff = counter
    manager = create_person((Role.partner_manager, partner, None))
    today = hours.hanoi_now().date()
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        hours.add_closure(
            session,
            manager,
            point.id,
            {"starts_on": today.isoformat(), "ends_on": today.isoformat(), "reason": "Sửa mái"},
        )
    refused = _signed_in(portal, staff).post_json("/api/v1/dossiers", _filing(point.id))
    assert refused.status_code == 409, refused.text
    assert "Sửa mái" in refused.json()["message"]
    assert _dossiers_at(point.id) == 0


def test_a_contract_that_ended_yesterday_stops_filing_today_on_the_api(portal, counter):
    partner, point, staff = counter
    client = _signed_in(portal, staff)
    today = hours.hanoi_now().date()
    with unit_of_work(setup_scope()) as session:
        session.get(Partner, partner.id).contract_end = today
    assert client.post_json("/api/v1/dossiers", _filing(point.id)).status_code == 201  # its last day still files
    with unit_of_work(setup_scope()) as session:
        session.get(Partner, partner.id).contract_end = today - timedelta(days=1)
    refused = client.post_json("/api/v1/dossiers", _filing(point.id))
    assert refused.status_code == 403, refused.text
    assert (
        f"Hợp đồng của đối tác đã kết thúc ngày {(today - timedelta(days=1)).isoformat()}" in refused.json()["message"]
    )
    assert _dossiers_at(point.id) == 1
