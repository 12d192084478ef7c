"""The public transparency pages: the network's and each partner's figures by month, for anyone, from the rollups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from agents.dossiers.models import Dossier
from agents.reporting.rollups import touched_keys
from agents.reporting.tasks import refresh
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_counter, file_birth_registration


def _refresh(*dossiers) -> None:
    for key in sorted(touched_keys(dossiers)):
        refresh.apply(args=list(key), throw=True)


def test_anyone_sees_a_partners_dossiers_on_time_rate_and_rating_by_month_and_the_network(portal):
    partner, point, staff = create_counter(point_name=f"Điểm Công Khai {uuid.uuid4().hex[:4]}")
    dossiers = [file_birth_registration(staff, point) for _ in range(3)]
    now = datetime.now(UTC)
    with unit_of_work(Scope.network("test: results by and after the due date", actor_label="test")) as session:
        for d, late in ((dossiers[0], False), (dossiers[1], True)):
            session.execute(
                update(Dossier)
                .where(Dossier.id == d.id)
                .values(due_at=now + timedelta(days=-1 if late else 1), finished_at=now, city_status=9)
            )
    _refresh(*dossiers)

    citizen = portal()
    page = citizen.get(f"/transparency/{partner.code}")
    assert page.status_code == 200
    assert 'data-testid="handled">3<' in page.text
    assert 'data-testid="on-time">50,0 %<' in page.text  # one result on time, one late
    assert 'data-testid="avg">—<' in page.text  # no rating yet
    month = now.astimezone(UTC) + timedelta(hours=7)
    assert f'data-month="{month:%Y-%m}"' in page.text and point.name not in page.text  # no point is named
    assert page.text.count("data-month=") == 12

    network = citizen.get("/transparency")
    assert network.status_code == 200 and f'href="/transparency/{partner.code}"' in network.text
    assert 'data-testid="partners"' in network.text

    assert citizen.get("/transparency/no-such-partner").status_code == 404
    citizen.get("/lang/en", follow_redirects=False)
    english = citizen.get(f"/transparency/{partner.code}").text
    assert "Dossiers received" in english and "On-time rate" in english
