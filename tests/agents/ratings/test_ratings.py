"""Ratings: two kinds per dossier, once each, through the dossier's own signed, expiring link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agents.city.wire import CityUpdate
from agents.dossiers import city_status
from agents.dossiers.models import CityStatus
from agents.ratings import service
from agents.ratings.links import LinkRefused, check_token, rating_token
from agents.ratings.models import Rating
from agents.ratings.rules import (
    RatingKind,
    Sipas,
    Timeliness,
    sipas_of_came_back,
    sipas_of_stars,
    sipas_of_timeliness,
)
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import create_counter, file_birth_registration

GOOD = {"stars": "4", "attitude": "satisfied", "timeliness": "on_time", "came_back": "0", "comment": "Nhanh gọn"}


def _public() -> Scope:
    return Scope.network("test: citizen rates", actor_label="citizen (rating link)", origin="203.0.113.9")


def _rate(dossier, kind: RatingKind, data=GOOD, *, token: str | None = None, code: str | None = None):
    token = token if token is not None else rating_token(dossier.tracking_code, dossier.submitted_at)
    with unit_of_work(_public()) as session:
        return service.rate(
            session,
            code or dossier.tracking_code,
            token,
            kind,
            data,
            service.Origin(ip="203.0.113.9", device=uuid.uuid4().hex),
        )


def _finish(dossier) -> None:
    with unit_of_work(Scope.network("test: city reports", actor_label="city system")) as session:
        city_status.apply_city_update(
            session,
            CityUpdate(
                uuid.uuid4().hex, 5, CityStatus.processed, datetime.now(UTC), tracking_code=dossier.tracking_code
            ),
        )


def _count(dossier) -> int:
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        return session.scalar(select(func.count()).select_from(Rating).where(Rating.dossier_id == dossier.id)) or 0


@pytest.fixture(scope="module")
def counter():
    return create_counter()


@pytest.fixture
def dossier(counter):
    _, point, staff = counter
    return file_birth_registration(staff, point)


def test_every_criterion_reads_as_a_sipas_level():
    assert [sipas_of_stars(s) for s in (5, 4, 3, 2, 1)] == [
        Sipas.very_satisfied,
        Sipas.satisfied,
        Sipas.satisfied,
        Sipas.not_satisfied,
        Sipas.not_satisfied,
    ]
    assert [sipas_of_timeliness(t) for t in Timeliness] == list(Sipas)
    assert [sipas_of_came_back(n) for n in (0, 1, 2)] == list(Sipas)


def test_the_counter_service_is_rated_right_after_filing_and_only_once(dossier):
    rating = _rate(dossier, RatingKind.counter)
    assert (rating.stars, rating.attitude, rating.timeliness, rating.came_back) == (
        4,
        Sipas.satisfied,
        Timeliness.on_time,
        0,
    )
    assert rating.staff_account_id == dossier.staff_account_id and rating.network_digest and rating.device_digest
    assert rating.seconds_after_filing is not None and rating.seconds_after_filing < 600
    with pytest.raises(Conflict, match="đã được đánh giá"):
        _rate(dossier, RatingKind.counter)
    assert _count(dossier) == 1
    with unit_of_work(Scope.network("test reads back", actor_label="test")) as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rating.created", AuditEvent.object_id == str(dossier.id))
        ).one()
        assert entry.detail == {"kind": "counter", "stars": 4}


def test_the_result_waits_for_status_9_or_10_then_takes_one_rating(dossier):
    with pytest.raises(Conflict, match="sau khi hồ sơ đã xử lý xong"):
        _rate(dossier, RatingKind.result)
    _finish(dossier)
    _rate(dossier, RatingKind.result, {**GOOD, "stars": "5"})
    with pytest.raises(Conflict):
        _rate(dossier, RatingKind.result)
    _rate(dossier, RatingKind.counter)  # the other kind is still open
    assert _count(dossier) == 2


def test_a_link_rates_only_its_own_dossier(counter, dossier):
    _, point, staff = counter
    other = file_birth_registration(staff, point)
    own_token = rating_token(dossier.tracking_code, dossier.submitted_at)
    with pytest.raises(NotFound, match="không hợp lệ"):
        _rate(other, RatingKind.counter, token=own_token)
    assert _count(other) == 0


def test_an_altered_or_expired_link_is_refused_and_nothing_is_saved(dossier):
    token = rating_token(dossier.tracking_code, dossier.submitted_at)
    expires, _, signature = token.partition(".")
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    for altered in (f"{int(expires) + 86400}.{signature}", f"{expires}.{flipped}", "", "x.y", "é"):
        with pytest.raises(NotFound):
            _rate(dossier, RatingKind.counter, token=altered)
    with pytest.raises(NotFound):
        _rate(dossier, RatingKind.counter, code="HN-0000-0000")
    old = rating_token(dossier.tracking_code, datetime.now(UTC) - timedelta(days=400))
    with pytest.raises(service.RatingLinkExpired, match="hết hạn"):
        _rate(dossier, RatingKind.counter, token=old)
    with pytest.raises(LinkRefused) as refused:
        check_token(dossier.tracking_code, old)
    assert refused.value.expired
    assert _count(dossier) == 0


def test_bad_answers_name_every_wrong_field_at_once(dossier):
    bad = {"stars": "7", "attitude": "ecstatic", "timeliness": "", "came_back": "9", "comment": "x" * 1001}
    with pytest.raises(ValidationFailed) as failed:
        _rate(dossier, RatingKind.counter, bad)
    assert set(failed.value.field_errors) == {"stars", "attitude", "timeliness", "came_back", "comment"}
    for stars in ("0", "-1", "4.5", "٣", "", "10"):
        with pytest.raises(ValidationFailed):
            _rate(dossier, RatingKind.counter, {**GOOD, "stars": stars})
    with pytest.raises(ValidationFailed):
        service.parse_kind("both")
    assert _count(dossier) == 0


def test_the_counter_window_closes(dossier):
    late = dossier.submitted_at + timedelta(days=15)
    assert service.is_open(dossier, RatingKind.counter)
    assert not service.is_open(dossier, RatingKind.counter, late)
    assert not service.is_open(dossier, RatingKind.result)
