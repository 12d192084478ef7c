"""The audit log is append-only and tamper-evident; the auditors' command finds where it breaks."""

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from portal.core import audit
from portal.core.audit import AuditEvent, verify_chain
from portal.core.db import get_engine, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_partner


def _scope() -> Scope:
    return Scope.network("test: audit", actor_label="tester", origin="tests")


def _append(action: str) -> int:
    with unit_of_work(_scope()) as session:
        event = audit.record(session, action, "thing", "1", detail={"n": action})
        session.flush()
        return event.seq


def test_every_entry_links_to_the_one_before_and_the_chain_verifies():
    first, second = _append("test.first"), _append("test.second")
    assert second == first + 1
    with unit_of_work(_scope()) as session:
        a, b = session.get(AuditEvent, first), session.get(AuditEvent, second)
        assert b.prev_hash == a.entry_hash
        report = verify_chain(session)
    assert report.ok and report.checked >= 2


def test_the_application_cannot_rewrite_or_delete_entries():
    seq = _append("test.protected")
    with get_engine().begin() as conn, pytest.raises(DBAPIError):
        conn.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = :s"), {"s": seq})
    with get_engine().begin() as conn, pytest.raises(DBAPIError):
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": seq})


def _owner_engine(settings):
    return create_engine(settings.database.migration_url)


def _trigger_off(is_postgres: bool) -> str:
    if is_postgres:
        return "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"
    return "DROP TRIGGER audit_events_no_update"


def _trigger_on(is_postgres: bool) -> str:
    if is_postgres:
        return "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update"
    return (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )


def test_an_altered_entry_is_found_by_the_page_and_the_command(settings, is_postgres):
    """Someone with the database owner's rights bypasses the triggers and edits an entry."""
    seq = _append("test.to_be_altered")
    _append("test.after")
    owner = _owner_engine(settings)
    trigger_off, trigger_on = _trigger_off(is_postgres), _trigger_on(is_postgres)
    with owner.begin() as conn:
        original = conn.execute(text("SELECT object_id FROM audit_events WHERE seq = :s"), {"s": seq}).scalar()
        conn.execute(text(trigger_off))
        conn.execute(text("UPDATE audit_events SET object_id = 'forged' WHERE seq = :s"), {"s": seq})
    try:
        with unit_of_work(_scope()) as session:
            report = verify_chain(session)
        assert not report.ok and report.broken_at == seq
        assert "altered" in report.problem
        cli = subprocess.run([sys.executable, "-m", "portal.cli", "audit", "verify"], capture_output=True, text=True)
        assert cli.returncode == 1 and f"BROKEN at entry {seq}" in cli.stdout
    finally:
        with owner.begin() as conn:
            conn.execute(text("UPDATE audit_events SET object_id = :o WHERE seq = :s"), {"o": original, "s": seq})
            conn.execute(text(trigger_on))
        owner.dispose()
    with unit_of_work(_scope()) as session:
        assert verify_chain(session).ok
    cli = subprocess.run([sys.executable, "-m", "portal.cli", "audit", "verify"], capture_output=True, text=True)
    assert cli.returncode == 0 and "intact" in cli.stdout


def _entry(seq: int) -> AuditEvent:
    with unit_of_work(_scope()) as session:
        return session.get(AuditEvent, seq)


def test_an_entry_made_across_partners_says_why_and_one_in_a_partners_scope_does_not():
    across = _append("test.across_partners")
    assert _entry(across).scope_reason == "test: audit"
    partner = create_partner()
    with unit_of_work(Scope.partner(partner.id, actor_label="tester")) as session:
        own = audit.record(session, "test.own_partner", "thing", "2").seq
    assert _entry(own).scope_reason is None


def test_an_altered_scope_reason_breaks_the_chain(settings, is_postgres):
    seq = _append("test.reason_to_be_altered")
    owner = _owner_engine(settings)
    with owner.begin() as conn:
        conn.execute(text(_trigger_off(is_postgres)))
        conn.execute(text("UPDATE audit_events SET scope_reason = 'routine check' WHERE seq = :s"), {"s": seq})
    try:
        with unit_of_work(_scope()) as session:
            report = verify_chain(session)
        assert not report.ok and report.broken_at == seq and "altered" in report.problem
    finally:
        with owner.begin() as conn:
            conn.execute(text("UPDATE audit_events SET scope_reason = 'test: audit' WHERE seq = :s"), {"s": seq})
            conn.execute(text(_trigger_on(is_postgres)))
        owner.dispose()
    with unit_of_work(_scope()) as session:
        assert verify_chain(session).ok


def test_entries_from_before_the_scope_reason_keep_the_hash_they_were_written_with():
    """Written before migration 0003: no reason, and the canonical form without the field."""
    old = AuditEvent(
        seq=7,
        occurred_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        actor_id=None,
        actor_label="system",
        origin="worker",
        partner_id=None,
        action="dossier.forwarded",
        object_type="dossier",
        object_id="x",
        detail={"city_dossier_code": "H01.22-1"},
        prev_hash="0" * 64,
        scope_reason=None,
    )
    body = {
        "seq": 7,
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "actor_id": None,
        "actor_label": "system",
        "origin": "worker",
        "partner_id": None,
        "action": "dossier.forwarded",
        "object_type": "dossier",
        "object_id": "x",
        "detail": {"city_dossier_code": "H01.22-1"},
        "prev_hash": "0" * 64,
    }
    pre_0003 = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    assert audit.compute_hash(old) == pre_0003.hexdigest()
    old.scope_reason = "sweeper: dossiers stuck before the city"
    assert audit.compute_hash(old) != pre_0003.hexdigest()
