"""The request's unit of work, as handlers get it from portal/deps.py: one commit after the answer,
everything rolled back when the handler fails, read-only for reads, the refusal kept on the record."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar, get, post
from litestar.testing import TestClient
from sqlalchemy import select

from agents.partners.models import Partner, PartnerKind
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.db import on_commit, read_only
from portal.core.errors import Conflict
from portal.core.tenancy import Scope
from portal.deps import DEPENDENCIES, Session, public_work
from portal.exceptions import EXCEPTION_HANDLERS

happened: list[str] = []


def _exists(code: str) -> bool:
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        return session.scalar(select(Partner.id).where(Partner.code == code)) is not None


@post("/api/test/write/{code:str}", sync_to_thread=True, opt=public_work("test writes", "test"))
def write(session: Session, code: str) -> dict[str, str]:
    session.add(Partner(code=code, name=code, kind=PartnerKind.bank))
    on_commit(session, lambda: happened.append(f"committed {code} (visible: {_exists(code)})"))
    happened.append(f"answered {code}")
    return {"code": code}


@post("/api/test/fail/{code:str}", sync_to_thread=True, opt=public_work("test writes", "test"))
def write_then_fail(session: Session, code: str) -> None:
    session.add(Partner(code=code, name=code, kind=PartnerKind.bank))
    audit.record(session, "test.written_then_failed", "partner", code)
    on_commit(session, lambda: happened.append(f"committed {code}"))
    raise Conflict("refused after writing")


@post("/api/test/refuse/{code:str}", sync_to_thread=True, opt=public_work("test refuses", "test"))
def refuse(session: Session, code: str) -> None:
    session.add(Partner(code=code, name=code, kind=PartnerKind.bank))
    session.flush()
    audit.record_refusal(session, "test.refused", "partner", code)
    raise Conflict("refused")


@get("/api/test/read/{code:str}", sync_to_thread=True, opt=public_work("test reads", "test"))
def read_but_write(session: Session, code: str) -> None:
    session.add(Partner(code=code, name=code, kind=PartnerKind.bank))
    session.flush()


@pytest.fixture(scope="module")
def http():
    app = Litestar(
        [write, write_then_fail, refuse, read_but_write],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    with TestClient(app) as client:
        yield client


def _code() -> str:
    return f"D{uuid.uuid4().hex[:8].upper()}"


def test_a_request_commits_once_after_answering_and_then_runs_its_side_effects(http):
    code = _code()
    happened.clear()
    assert http.post(f"/api/test/write/{code}").status_code == 201
    assert happened == [f"answered {code}", f"committed {code} (visible: True)"]


def test_a_failing_request_rolls_back_every_write_and_runs_no_side_effect(http):
    code = _code()
    happened.clear()
    response = http.post(f"/api/test/fail/{code}")
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    assert happened == [] and not _exists(code)
    with read_only(Scope.network("test", actor_label="t")) as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.object_id == code)) is None


def test_a_refusal_stays_on_the_record_although_the_request_rolls_back(http):
    code = _code()
    assert http.post(f"/api/test/refuse/{code}").status_code == 409
    assert not _exists(code)
    with read_only(Scope.network("test", actor_label="t")) as session:
        entry = session.scalar(select(AuditEvent).where(AuditEvent.object_id == code))
    assert entry is not None and entry.action == "test.refused" and entry.actor_label == "test"


def test_a_read_route_cannot_write(http):
    code = _code()
    assert http.get(f"/api/test/read/{code}").status_code == 500
    assert not _exists(code)
