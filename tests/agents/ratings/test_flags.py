"""Suspicious ratings are flagged with their evidence, never deleted; the center may leave them out of averages."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from agents.ratings import flags, service
from agents.ratings.links import rating_token
from agents.ratings.models import Rating, RatingFlag
from agents.ratings.rules import RatingKind
from agents.reporting.queries import figures_per_point
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import Conflict, PermissionDenied, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import (
    create_partner,
    create_person,
    create_point,
    create_staff,
    file_birth_registration,
    refresh_figures,
)

TOP = {"stars": "5", "attitude": "very_satisfied", "timeliness": "earlier", "came_back": "0"}
LOW = {"stars": "2", "attitude": "not_satisfied", "timeliness": "late", "came_back": "2"}


def _rate(dossier, *, ip: str, device: str, answers=TOP) -> uuid.UUID:
    with unit_of_work(Scope.network("test: citizen rates", actor_label="citizen (rating link)", origin=ip)) as session:
        rating = service.rate(
            session,
            dossier.tracking_code,
            rating_token(dossier.tracking_code, dossier.submitted_at),
            RatingKind.counter,
            answers,
            service.Origin(ip=ip, device=device),
        )
        return rating.id


def _flags_of(rating_id: uuid.UUID) -> dict[str, dict]:
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        return {
            f.reason: f.evidence for f in session.scalars(select(RatingFlag).where(RatingFlag.rating_id == rating_id))
        }


@pytest.fixture
def counter():
    partner = create_partner()
    point = create_point(partner)
    return partner, point, create_staff(point, partner)


def test_a_burst_of_top_ratings_from_one_device_flags_every_rating_in_it(counter):
    _, point, staff = counter
    device = uuid.uuid4().hex
    ids = [_rate(file_birth_registration(staff, point), ip=f"192.0.{i}.{i + 1}", device=device) for i in range(3)]
    for rating_id in ids:
        evidence = _flags_of(rating_id)["burst_device"]
        assert evidence["count"] == 3 and sorted(evidence["ratings"]) == sorted(map(str, ids))
    low = _rate(file_birth_registration(staff, point), ip="192.0.9.9", device=device, answers=LOW)
    assert _flags_of(low) == {}  # a low rating is no boost


def test_a_burst_from_one_network_is_flagged_from_the_fifth(counter):
    _, point, staff = counter
    ids = [_rate(file_birth_registration(staff, point), ip=f"100.64.7.{i}", device=uuid.uuid4().hex) for i in range(5)]
    assert "burst_network" not in _flags_of(ids[0]) or len(ids) == 5
    assert all("burst_network" in _flags_of(i) for i in ids)


def test_a_rating_from_the_filing_network_seconds_after_filing_is_flagged(counter):
    _, point, staff = counter
    at_counter = file_birth_registration(staff, point, origin="198.51.100.20")
    own = _rate(at_counter, ip="198.51.100.77", device=uuid.uuid4().hex)
    assert set(_flags_of(own)) == {"own_network"}
    assert _flags_of(own)["own_network"]["seconds_after_filing"] < 600
    at_home = file_birth_registration(staff, point, origin="198.51.100.20")
    assert _flags_of(_rate(at_home, ip="203.0.113.50", device=uuid.uuid4().hex)) == {}


def test_a_staff_member_rated_far_above_their_point_is_flagged(counter):
    partner, point, staff = counter
    colleague = create_staff(point, partner)
    for i in range(4):
        _rate(file_birth_registration(colleague, point), ip=f"172.16.{i}.1", device=uuid.uuid4().hex, answers=LOW)
    last = None
    for i in range(10):
        last = _rate(file_birth_registration(staff, point), ip=f"172.17.{i}.1", device=uuid.uuid4().hex)
    evidence = _flags_of(last)["staff_outlier"]
    assert evidence == {"staff_average": 5.0, "staff_ratings": 10, "point_average": 2.0, "point_ratings": 4}


def test_the_center_excludes_a_flagged_rating_with_a_reason_and_the_average_follows(counter):
    partner, point, staff = counter
    honest = _rate(file_birth_registration(staff, point), ip="203.0.113.60", device=uuid.uuid4().hex, answers=LOW)
    at_counter = file_birth_registration(staff, point, origin="198.51.100.20")
    suspicious = _rate(at_counter, ip="198.51.100.21", device=uuid.uuid4().hex)
    admin = create_person((Role.center_admin, None, None))
    manager = create_person((Role.partner_manager, partner, None))

    def average() -> float | None:
        refresh_figures(point)  # what the worker does after each commit: the figures read the rollups
        with unit_of_work(Scope.network("test reads figures", actor_label="test")) as session:
            return next(f.average_rating for f in figures_per_point(session) if f.point_id == point.id)

    assert average() == 3.5
    with unit_of_work(admin.network_scope("test: center reviews")) as session:
        with pytest.raises(ValidationFailed):
            flags.exclude(session, admin, suspicious, "  ")
        with pytest.raises(Conflict, match="đã bị gắn cờ"):
            flags.exclude(session, admin, honest, "looks fine")
        with pytest.raises(PermissionDenied):
            flags.exclude(session, manager, suspicious, "mine")
        flags.exclude(session, admin, suspicious, "Nhân viên tự đánh giá tại quầy")
    assert average() == 2.0
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        rating = session.get(Rating, suspicious)
        assert rating is not None and rating.excluded and rating.stars == 5  # kept, not changed
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rating.excluded", AuditEvent.object_id == str(suspicious))
        ).one()
        assert entry.detail["reason"] == "Nhân viên tự đánh giá tại quầy" and entry.actor_id == admin.account_id
    with unit_of_work(admin.network_scope("test: center reviews")) as session:
        with pytest.raises(Conflict):
            flags.exclude(session, admin, suspicious, "again")
        flags.exclude(session, admin, suspicious, "checked with the citizen", exclude=False)
    assert average() == 3.5
