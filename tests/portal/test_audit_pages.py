"""The auditor's log: searched and filtered, paged past the newest 200, readable action names, a chain range."""

from __future__ import annotations

from sqlalchemy import func, select

from agents.staff.models import Role
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person, file_birth_registration


def test_an_auditor_filters_pages_and_verifies_a_range(portal):
    partner, point, staff = create_counter()
    dossier = file_birth_registration(staff, point)
    with unit_of_work(Scope.network("test: many entries", actor_label="bulk test writer")) as session:
        for n in range(205):
            audit.record(session, "test.bulk", "thing", f"bulk-{n}")
    auditor = create_person((Role.auditor, None, None))
    client = portal()
    client.sign_in(auditor.email)

    filed = client.get(f"/audit?action=dossier.filed&object={dossier.id}")
    assert filed.status_code == 200
    assert filed.text.count("<tr data-seq=") == 1 and "Tiếp nhận hồ sơ" in filed.text
    mine = client.get(f"/audit?person={staff.email}&partner={partner.id}")
    assert "<tr data-seq=" in mine.text and "bulk test writer" not in mine.text

    newest = client.get("/audit?action=test.bulk")
    assert newest.text.count("<tr data-seq=") == 200 and 'data-testid="older"' in newest.text
    older_link = newest.text.split('data-testid="older" href="')[1].split('"')[0].replace("&amp;", "&")
    older = client.get(older_link)
    assert older.text.count("<tr data-seq=") == 5 and 'data-testid="older"' not in older.text

    with read_only(Scope.network("test reads", actor_label="test")) as session:
        top = session.scalar(select(func.max(AuditEvent.seq)))
    ranged = client.get(f"/audit?verify=true&first={top - 10}&last={top}")
    assert 'data-testid="chain-ok"' in ranged.text and "11" in ranged.text.split('data-testid="chain-ok"')[1][:200]
    assert client.get("/audit?partner=not-a-uuid&before=x&start=yesterday").status_code == 200

    manager = create_person((Role.partner_manager, partner, None))
    boss = portal()
    boss.sign_in(manager.email)
    assert boss.get("/audit").status_code == 403
