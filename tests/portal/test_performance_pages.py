"""Performance dashboards read the rollups: a manager sees only their points, the center every partner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from agents.reporting.rollups import touched_keys
from agents.reporting.tasks import refresh
from agents.staff.models import Role
from tests.factories import create_counter, create_person, file_birth_registration


def _refresh(*dossiers) -> None:
    for key in sorted(touched_keys(dossiers)):
        refresh.apply(args=list(key), throw=True)


def test_a_manager_sees_their_points_from_the_rollups_and_the_center_sees_every_partner(portal):
    partner, point, staff = create_counter(point_name=f"Điểm Tràng Tiền {uuid.uuid4().hex[:4]}")
    other_partner, other_point, other_staff = create_counter(point_name=f"Điểm Khác {uuid.uuid4().hex[:4]}")
    mine = [file_birth_registration(staff, point) for _ in range(2)]
    theirs = file_birth_registration(other_staff, other_point)
    _refresh(*mine, theirs)
    manager = create_person((Role.partner_manager, partner, None))
    boss = portal()
    boss.sign_in(manager.email)
    today = datetime.now(UTC).date().isoformat()
    page = boss.get("/partner/performance")
    assert page.status_code == 200
    assert 'data-testid="filed">2<' in page.text and point.name in page.text
    assert other_point.name not in page.text  # neither the charts nor the tables hold another partner's points
    assert 'data-testid="chart-on_time_rate"' in page.text and 'data-testid="chart-weekly"' in page.text
    csv = boss.get("/partner/performance.csv?table=points").text
    assert point.name in csv and other_point.name not in csv
    backwards = boss.get(f"/partner/performance?start={today}&end=2020-01-01")
    assert backwards.status_code == 422 and "Ngày kết thúc trước ngày bắt đầu" in backwards.text
    assert boss.get("/partner/performance?start=yesterday").status_code == 422
    assert boss.get("/partner/performance.csv?table=everything").status_code == 422
    assert boss.get("/center/performance").status_code == 403

    admin = create_person((Role.center_admin, None, None))
    center = portal()
    center.sign_in(admin.email)
    network = center.get("/center/performance")
    assert network.status_code == 200
    assert partner.name in network.text and other_partner.name in network.text
    assert 'data-testid="adoption"' in network.text
    partners_csv = center.get("/center/performance.csv?table=partners").text
    assert partner.name in partners_csv and other_partner.name in partners_csv


def test_the_centers_dashboard_maps_points_by_performance_and_watches_coverage_overdue_and_breaches(portal):
    import html
    import json
    import re

    _partner, point, staff = create_counter(point_name=f"Điểm Bản Đồ {uuid.uuid4().hex[:4]}")
    _refresh(file_birth_registration(staff, point))
    admin = create_person((Role.center_admin, None, None))
    center = portal()
    center.sign_in(admin.email)
    page = center.get("/center/performance").text
    data = re.search(r'data-testid="performance-map" data-points="([^"]*)"', page).group(1)
    [mine] = [p for p in json.loads(html.unescape(data)) if p["name"].startswith(point.name)]
    assert mine["band"] == "none" and mine["lat"] == point.latitude  # no result yet: grey
    assert 'data-testid="coverage-gaps"' in page and "/center/coverage" in page
    assert 'href="/center/attention"' in page and 'href="/center/supplements"' in page
    assert "/static/vendor/leaflet/leaflet.js" in page
