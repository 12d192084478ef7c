"""The audit log is append-only and tamper-evident; the auditors' command finds where it breaks."""

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from portal.core import audit
from portal.core.audit import AuditEvent, verify_chain
from portal.core.db import get_engine, unit_of_work
from portal.core.tenancy import Scope


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
    return create_engine(settings.database_migration_url)


def test_an_altered_entry_is_found_by_the_page_and_the_command(settings, is_postgres):
    """Someone with the database owner's rights bypasses the triggers and edits an entry."""
    seq = _append("test.to_be_altered")
    _append("test.after")
    owner = _owner_engine(settings)
    trigger_off = (
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"
        if is_postgres
        else "DROP TRIGGER audit_events_no_update"
    )
    trigger_on = (
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update"
        if is_postgres
        else "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )
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
