"""The center's page of flagged ratings: the evidence, excluding with a reason; nobody else reaches it."""

from __future__ import annotations

import uuid

import pytest

from agents.ratings import service
from agents.ratings.links import rating_token
from agents.ratings.rules import RatingKind
from agents.staff.models import Role
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_partner, create_person, create_point, create_staff, file_birth_registration

TOP = {"stars": "5", "attitude": "very_satisfied", "timeliness": "earlier", "came_back": "0"}


def _rate(dossier, *, ip: str, device: str) -> uuid.UUID:
    with unit_of_work(Scope.network("test: citizen rates", actor_label="citizen (rating link)", origin=ip)) as session:
        return service.rate(
            session,
            dossier.tracking_code,
            rating_token(dossier.tracking_code, dossier.submitted_at),
            RatingKind.counter,
            TOP,
            service.Origin(ip=ip, device=device),
        ).id


@pytest.fixture
def counter():
    partner = create_partner()
    point = create_point(partner)
    return partner, point, create_staff(point, partner)


def test_the_center_sees_the_flags_with_their_evidence_and_a_manager_does_not(portal, counter):
    partner, point, staff = counter
    suspicious = _rate(file_birth_registration(staff, point, origin="198.51.100.30"), ip="198.51.100.31", device="d")
    admin = create_person((Role.center_admin, None, None))
    manager = create_person((Role.partner_manager, partner, None))
    center = portal()
    center.sign_in(admin.email)
    page = center.get("/center/ratings/flags")
    assert page.status_code == 200
    row = page.text.split(f'data-rating="{suspicious}"')[1].split("</tr>")[0]
    assert 'data-reason="own_network"' in row and "seconds_after_filing=" in row
    missing = center.post_form(f"/center/ratings/{suspicious}/exclusion", {"reason": ""})
    assert missing.status_code == 422 and "Cần nêu lý do" in missing.text
    done = center.post_form(f"/center/ratings/{suspicious}/exclusion", {"reason": "Tự đánh giá"})
    assert done.status_code == 200 and 'data-testid="excluded"' in done.text
    unknown = center.post_form(f"/center/ratings/{uuid.uuid4()}/exclusion", {"reason": "x"})
    assert unknown.status_code == 404
    boss = portal()
    boss.sign_in(manager.email)
    assert boss.get("/center/ratings/flags").status_code == 403
    assert (
        boss.post_form(f"/center/ratings/{suspicious}/exclusion", {"reason": "x", "action": "include"}).status_code
        == 403
    )
