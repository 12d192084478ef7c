"""The center's coverage: wards with no open point within 5 km (straight line from the centroid), the
sites where one new point reaches the most of them, as a page, a map and CSV; the population import."""

from __future__ import annotations

import csv
import io

import pytest

from agents.points import coverage
from agents.points.models import AgentPoint, AgentPointStatus
from agents.staff.models import Role
from agents.wards.models import Ward
from portal.core.db import read_only, unit_of_work
from tests.factories import create_partner, create_person, setup_scope


def _scope():
    return setup_scope()


def test_every_ward_is_measured_from_its_centroid_to_the_nearest_open_point():
    with read_only(_scope()) as session:
        result = coverage.coverage(session)
        points = session.query(AgentPoint).filter(AgentPoint.status == AgentPointStatus.approved).count()
    assert len(result.wards) == 126 and result.open_points <= points
    for row in result.wards:
        assert row.covered == (row.nearest_km is not None and row.nearest_km <= 5.0)
    uncovered = {w.ward.code for w in result.uncovered}
    for candidate in result.candidates:
        assert candidate.reaches and {w.ward.code for w in candidate.reaches} <= uncovered
    people = [c.people for c in result.candidates]
    assert people == sorted(people, reverse=True)


def test_a_new_open_point_covers_the_wards_around_it_and_a_closed_one_does_not():
    with read_only(_scope()) as session:
        before = coverage.coverage(session)
    # A commune on the edge of Hanoi that no point reaches yet.
    target = next(w for w in before.uncovered if w.ward.kind == "xa")
    partner = create_partner()
    with unit_of_work(_scope()) as session:
        session.add(
            AgentPoint(
                partner_id=partner.id,
                code="COVER-P",
                name="Điểm chờ duyệt",
                address="x",
                ward=target.ward.name,
                latitude=target.ward.latitude,
                longitude=target.ward.longitude,
                status=AgentPointStatus.pending,
            )
        )
    with read_only(_scope()) as session:
        assert target.ward.code in {w.ward.code for w in coverage.coverage(session).uncovered}
    with unit_of_work(_scope()) as session:
        session.add(
            AgentPoint(
                partner_id=partner.id,
                code="COVER-A",
                name="Điểm mới",
                address="x",
                ward=target.ward.name,
                latitude=target.ward.latitude,
                longitude=target.ward.longitude,
                status=AgentPointStatus.approved,
            )
        )
    with read_only(_scope()) as session:
        after = coverage.coverage(session)
    row = next(w for w in after.wards if w.ward.code == target.ward.code)
    assert row.covered and row.nearest_km == 0.0
    assert len(after.uncovered) < len(before.uncovered)


@pytest.fixture
def center(portal):
    admin = create_person((Role.center_admin, None, None))
    client = portal()
    client.sign_in(admin.email)
    return client


def test_the_center_sees_the_map_the_ranking_and_both_csv_files(center):
    page = center.get("/center/coverage")
    assert page.status_code == 200
    assert (
        "đường thẳng" in page.text and 'data-cells="' in page.text and "/static/vendor/leaflet/leaflet.js" in page.text
    )
    wards = list(csv.reader(io.StringIO(center.get("/center/coverage/wards.csv").text.lstrip("\ufeff"))))
    assert wards[0][:4] == ["code", "ward", "kind", "covered_within_5km"] and len(wards) == 127
    ranked = list(csv.reader(io.StringIO(center.get("/center/coverage/candidates.csv").text.lstrip("\ufeff"))))
    assert ranked[0][:4] == ["rank", "site_code", "site_ward", "uncovered_wards_reached"]
    assert [row[0] for row in ranked[1:]] == [str(n) for n in range(1, len(ranked))]


def test_a_population_file_is_imported_through_the_page_and_a_bad_one_names_its_rows(center):
    bad = center.http.post(
        "/center/wards/population",
        data={"_csrf_token": center.csrf, "source": "NQ thử"},
        files=[("file", ("dan-so.csv", b"code,population\n00070,abc\n12345,1\n", "text/csv"))],
    )
    assert bad.status_code == 422 and "row 2" in bad.text and "row 3" in bad.text
    good = center.http.post(
        "/center/wards/population",
        data={"_csrf_token": center.csrf, "source": "NQ thử"},
        files=[("file", ("dan-so.csv", b"code,population\n00070,42000\n", "text/csv"))],
    )
    assert good.status_code == 200 and "Đã cập nhật dân số 1 phường, xã" in good.text
    with read_only(_scope()) as session:
        assert session.get(Ward, "00070").population == 42000


def test_partner_people_and_auditors_cannot_import_and_partners_cannot_see_coverage(portal):
    partner = create_partner()
    manager = create_person((Role.partner_manager, partner, None))
    client = portal()
    client.sign_in(manager.email)
    assert client.get("/center/coverage").status_code in (403, 404)
    auditor = create_person((Role.auditor, None, None))
    reader = portal()
    reader.sign_in(auditor.email)
    assert reader.get("/center/coverage").status_code == 200
    refused = reader.http.post(
        "/center/wards/population",
        data={"_csrf_token": reader.csrf, "source": "x"},
        files=[("file", ("p.csv", b"code,population\n00070,1\n", "text/csv"))],
    )
    assert refused.status_code == 403
