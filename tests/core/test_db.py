"""One unit of work per request, task or command: it commits once, side effects follow the commit,
reads never write, and a refused attempt leaves its record although its own work is undone."""

import re
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agents.partners.models import Partner, PartnerKind
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.db import ReadOnlyViolation, attempt, on_commit, read_only, unit_of_work
from portal.core.tenancy import Scope

ROOT = Path(__file__).resolve().parents[2]


def _scope() -> Scope:
    return Scope.network("test: units of work", actor_label="tester", origin="tests")


def _partner(code: str) -> Partner:
    return Partner(code=code, name=f"Đối tác {code}", kind=PartnerKind.post)


def _code() -> str:
    return f"U{uuid.uuid4().hex[:8].upper()}"


def _exists(code: str) -> bool:
    with read_only(_scope()) as session:
        return session.scalar(select(Partner.id).where(Partner.code == code)) is not None


def test_a_unit_of_work_commits_once_at_its_end_and_its_hooks_run_after_the_commit():
    code = _code()
    seen_by_hook: list[bool] = []
    with unit_of_work(_scope()) as session:
        session.add(_partner(code))
        session.flush()
        on_commit(session, lambda: seen_by_hook.append(_exists(code)))
        assert seen_by_hook == []  # nothing runs before the commit
        assert not _exists(code)  # and nothing is visible outside before it
    assert seen_by_hook == [True]  # the hook ran once, and another session already saw the row


def test_an_exception_rolls_back_every_write_and_drops_the_hooks():
    code = _code()
    ran: list[str] = []
    with pytest.raises(RuntimeError, match="boom"), unit_of_work(_scope()) as session:
        session.add(_partner(code))
        audit.record(session, "test.never_kept", "partner", code)
        on_commit(session, lambda: ran.append("enqueued"))
        raise RuntimeError("boom")
    assert ran == []
    assert not _exists(code)
    with read_only(_scope()) as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.object_id == code)) is None


def test_a_hook_registered_in_a_savepoint_that_rolls_back_is_dropped_and_the_others_stay():
    kept, dropped = _code(), _code()
    ran: list[str] = []
    with unit_of_work(_scope()) as session:
        session.add(_partner(kept))
        on_commit(session, lambda: ran.append(kept))
        try:
            with session.begin_nested():
                session.add(_partner(dropped))
                session.flush()
                on_commit(session, lambda: ran.append(dropped))
                raise LookupError("undo this part only")
        except LookupError:
            pass
    assert ran == [kept]
    assert _exists(kept) and not _exists(dropped)


def test_a_refused_attempt_is_undone_and_the_unit_goes_on():
    kept, refused = _code(), _code()
    ran: list[str] = []
    with unit_of_work(_scope()) as session:
        session.add(_partner(kept))
        session.flush()
        with pytest.raises(LookupError), attempt(session):
            session.add(_partner(refused))
            on_commit(session, lambda: ran.append(refused))
            raise LookupError("the service refused halfway")
        kept_row = session.scalar(select(Partner).where(Partner.code == kept))
        assert kept_row is not None  # still there, still loaded
    assert _exists(kept) and not _exists(refused) and ran == []


def test_a_failing_hook_is_logged_and_the_commit_stands(caplog):
    code = _code()
    ran: list[str] = []

    def broken() -> None:
        raise ConnectionError("broker down")

    with unit_of_work(_scope()) as session:
        session.add(_partner(code))
        on_commit(session, broken)
        on_commit(session, lambda: ran.append("next"))
    assert _exists(code) and ran == ["next"]
    assert "after-commit callback" in caplog.text


def test_a_read_only_unit_refuses_every_kind_of_write_and_commits_nothing():
    code = _code()
    with read_only(_scope()) as session:
        session.add(_partner(code))
        with pytest.raises(ReadOnlyViolation):
            session.flush()
    with read_only(_scope()) as session, pytest.raises(ReadOnlyViolation):
        session.execute(update(Partner).where(Partner.code == code).values(name="x"))
    with read_only(_scope()) as session, pytest.raises(ReadOnlyViolation):
        on_commit(session, lambda: None)
    assert not _exists(code)


def test_objects_read_in_a_read_only_unit_stay_readable_after_it_has_ended():
    code = _code()
    with unit_of_work(_scope()) as session:
        session.add(_partner(code))
    with read_only(_scope()) as session:
        partner = session.scalar(select(Partner).where(Partner.code == code))
    assert partner is not None and partner.name == f"Đối tác {code}"  # a page renders after the unit closed


def test_a_refusal_is_recorded_in_its_own_transaction_while_the_refused_work_is_undone():
    code = _code()
    with pytest.raises(PermissionError), unit_of_work(_scope()) as session:
        session.add(_partner(code))
        session.flush()
        audit.record_refusal(session, "test.refused", "partner", code, detail={"reason": "forged"})
        raise PermissionError("refused")
    assert not _exists(code)  # what the refused request did is gone
    with read_only(_scope()) as session:
        [entry] = session.scalars(select(AuditEvent).where(AuditEvent.object_id == code)).all()
    assert entry.action == "test.refused" and entry.detail == {"reason": "forged"}
    assert entry.actor_label == "tester"  # in the caller's scope unless told otherwise


def _commits_outside_the_unit_of_work() -> list[str]:
    found = subprocess.run(
        ["grep", "-rn", "--include=*.py", r"\.commit()", "agents", "payments", "portal"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return [line for line in found if not re.match(r"portal/core/db\.py:", line)]


def test_nothing_but_the_unit_of_work_commits():
    """A tripwire: services flush, the unit of work commits (docs/decisions/0002-unit-of-work.md)."""
    assert _commits_outside_the_unit_of_work() == []
