"""End to end: a dossier filed at the counter travels through a real worker to the city and back."""

import re
import uuid

import pytest
from sqlalchemy import select

from agents.dossiers.models import DossierState
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from tests.e2e.conftest import file_at_the_counter
from tests.factories import (
    PASSWORD,
    create_partner,
    create_person,
    create_point,
    create_staff,
    ensure_procedures,
    file_birth_registration,
    reload_dossier,
    setup_scope,
)

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def counter():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Bưu điện Đầu cuối")
    return partner, point, create_staff(point, partner), create_person((Role.partner_manager, partner, None))


def test_a_filing_reaches_the_city_and_its_result_comes_back_to_every_page(stack, counter):
    _partner, _point, staff, manager = counter
    client, dossier_id, code = file_at_the_counter(stack, staff)

    def returned():
        dossier = reload_dossier(uuid.UUID(dossier_id))
        return dossier if dossier.city_status == 10 else None

    dossier = stack.wait_for(returned, what="status 10 (result returned) from the city")
    assert dossier.state is DossierState.forwarded and dossier.city_dossier_code
    city_statuses = [e.city_status for e in dossier.timeline if e.city_status]
    assert dossier.timeline[0].state == "queued"  # filed at the counter first, then the city
    assert city_statuses == [1, 2, 4, 9, 10]
    # The worker forwarded it in the scope the filing enqueued it with: the filer's, on the record.
    with read_only(setup_scope()) as session:
        forwarded = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "dossier.forwarded", AuditEvent.object_id == dossier_id)
        )
    assert (forwarded.actor_id, forwarded.origin) == (staff.account_id, "worker:dossiers.forward")
    page = client.get(f"/dossiers/{dossier_id}").text
    assert "Đã trả kết quả" in page and dossier.city_dossier_code in page

    citizen_side = stack.browser_client()
    citizen_side.get("/track")
    tracked = citizen_side.post(
        "/track", data={"code": code, "phone": "0912345678", "_csrf_token": citizen_side.cookies["csrftoken"]}
    )
    assert tracked.status_code == 200 and "Đã trả kết quả" in tracked.text
    token = re.search(r"/rate/" + code + r"\?token=([^\"&]+)", tracked.text).group(1)
    answers = {"stars": "5", "attitude": "very_satisfied", "timeliness": "on_time", "came_back": "0"}
    rated = citizen_side.post(
        f"/rate/{code}",
        data={"token": token, "kind": "result", **answers, "_csrf_token": citizen_side.cookies["csrftoken"]},
    )
    assert rated.status_code == 201

    boss = stack.browser_client()
    stack.sign_in(boss, manager.email, PASSWORD)

    def rated_on_the_dashboard() -> bool:  # the worker refreshes the rollups the page reads after each commit
        row = boss.get("/partner/dashboard").text.split('data-point="Bưu điện Đầu cuối"')[1].split("</tr>")[0]
        return 'data-testid="avg">5.00<' in row

    stack.wait_for(rated_on_the_dashboard, what="the rating on the partner's dashboard")


def test_during_a_city_outage_the_dossier_waits_and_goes_through_when_the_city_returns(stack, counter):
    _partner, _point, staff, _ = counter
    stack.configure_city(down=True)
    try:
        _, dossier_id, _ = file_at_the_counter(stack, staff)
        dossier_uuid = uuid.UUID(dossier_id)
        stack.wait_for(lambda: reload_dossier(dossier_uuid).forward_attempts >= 2, what="retries against the outage")
        waiting = reload_dossier(dossier_uuid)
        assert waiting.state is DossierState.queued and "503" in waiting.last_error
    finally:
        stack.configure_city(down=False)
    forwarded = stack.wait_for(
        lambda: reload_dossier(dossier_uuid).state is DossierState.forwarded, what="forwarding after the outage"
    )
    assert forwarded


def test_duplicate_and_out_of_order_callbacks_leave_one_clean_history(stack, counter):
    _partner, _point, staff, _ = counter
    stack.configure_city(duplicate_callbacks=True, out_of_order=True)
    try:
        _, dossier_id, _ = file_at_the_counter(stack, staff)
        dossier_uuid = uuid.UUID(dossier_id)
        done = stack.wait_for(
            lambda: (d := reload_dossier(dossier_uuid)) and len([e for e in d.events if e.city_status]) >= 5 and d,
            what="all five city statuses despite duplicates and reordering",
        )
    finally:
        stack.configure_city(duplicate_callbacks=False, out_of_order=False)
    # Every status twice: read the history only once the city has delivered all ten callbacks.
    deliveries = stack.settled_callbacks(done.city_dossier_code, at_least=10)
    assert {d["state"] for d in deliveries} == {"delivered"}
    final = reload_dossier(dossier_uuid)
    assert final.city_status == 10  # the newest status wins, whatever order the reports came in
    assert sorted(e.city_status for e in final.events if e.city_status) == [1, 2, 4, 9, 10]
    assert done


def test_a_dossier_whose_message_was_lost_is_forwarded_by_the_sweeper(stack, counter):
    _partner, point, staff, _ = counter
    # Filed in this test process: its message goes to this process's broker folder, which the
    # stack's worker never reads, exactly as if the message had been lost. Only the worker's
    # periodic sweeper (beat) can find the dossier, by its row left queued.
    dossier = file_birth_registration(staff, point)
    assert reload_dossier(dossier.id).state is DossierState.queued
    forwarded = stack.wait_for(
        lambda: reload_dossier(dossier.id).state is DossierState.forwarded, what="the sweeper to re-enqueue the dossier"
    )
    assert forwarded
