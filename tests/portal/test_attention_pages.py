"""The attention pages: a point's overdue dossiers, the center's list, and sending a dossier again."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from agents.dossiers.models import Dossier, DossierState
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person, file_birth_registration, reload_dossier

SETUP = Scope.network("test: arrange dossiers", actor_label="test")


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Chú ý")


def _set(dossier_id, **values) -> None:
    with unit_of_work(SETUP) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(**values))


def test_staff_see_their_overdue_dossier_highlighted_in_the_list_and_on_the_attention_page(portal, counter):
    _, point, staff = counter
    dossier = file_birth_registration(staff, point)
    _set(dossier.id, state=DossierState.forwarded, due_at=datetime.now(UTC) - timedelta(hours=2))
    client = portal()
    client.sign_in(staff.email)
    listing = client.get("/dossiers").text
    assert 'class="overdue"' in listing and "Quá hạn" in listing
    page = client.get("/dossiers/attention")
    assert page.status_code == 200
    overdue = page.text.split('data-testid="list-overdue"', 1)[1].split("</table>", 1)[0]
    assert dossier.tracking_code in overdue


def test_the_center_sends_again_a_dossier_the_city_never_took_and_staff_cannot(portal, counter):
    _, point, staff = counter
    dossier = file_birth_registration(staff, point)
    _set(dossier.id, state=DossierState.forward_failed, forward_attempts=30)
    admin = create_person((Role.center_admin, None, None))
    client = portal()
    client.sign_in(admin.email)
    page = client.get("/center/attention").text
    failed = page.split('data-testid="list-forward_failed"', 1)[1].split("</table>", 1)[0]
    assert dossier.tracking_code in failed
    action = f"/center/dossiers/{dossier.id}/send-again"
    assert action in failed
    sent = client.post_form(action, {})
    assert sent.status_code == 303 and sent.headers["location"] == "/center/attention"
    assert reload_dossier(dossier.id).state is DossierState.queued
    again = client.post_form(action, {})
    assert again.status_code == 409  # already queued: nothing to send again

    counter_client = portal()
    counter_client.sign_in(staff.email)
    assert counter_client.get("/center/attention").status_code == 403
    _set(dossier.id, state=DossierState.forward_failed)
    assert counter_client.post_form(action, {}).status_code == 403
    assert reload_dossier(dossier.id).state is DossierState.forward_failed
    assert re.search(r"Chưa gửi được", counter_client.get(f"/dossiers/{dossier.id}").text)
