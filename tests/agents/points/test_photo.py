"""A point's premises photo is checked, scanned by clamd and stored sealed, like every upload; refusals are on record."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from agents.documents.rules import Infected, UnsupportedType
from agents.documents.service import ScanningUnavailable
from agents.points import photo
from agents.points.models import AgentPoint
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.blob_store import FilesystemBlobStore, content_hash
from portal.core.db import read_only, unit_of_work
from portal.core.errors import NotFound
from portal.core.scanner import ClamdScanner
from portal.core.tenancy import Scope
from portal.scanner_daemon import EICAR
from tests.agents.documents.test_rules import a_pdf, an_image
from tests.clamd import clamd  # noqa: F401
from tests.factories import create_partner, create_person, create_point


@pytest.fixture
def point():  # type: ignore[no-untyped-def]
    partner = create_partner()
    return partner, create_point(partner), create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản")


def _scanner(daemon) -> ClamdScanner:  # type: ignore[no-untyped-def]
    return daemon.scanner()


def _audit(action: str, point_id: uuid.UUID) -> list[AuditEvent]:
    with read_only(Scope.network("test reads audit", actor_label="test")) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == str(point_id))
            .order_by(AuditEvent.seq)
        )
        return list(rows)


def _hash_of(point_id: uuid.UUID) -> str | None:
    with read_only(Scope.network("test reads the point", actor_label="test")) as session:
        return session.get(AgentPoint, point_id).photo_hash


def test_a_clean_photo_is_stored_sealed_by_its_hash_and_the_change_audited(point, clamd, tmp_path):  # noqa: F811
    partner, pt, manager = point
    files = FilesystemBlobStore(tmp_path)
    picture = an_image("JPEG")
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        photo.set_photo(session, manager, pt.id, picture, clamd=_scanner(clamd), files=files)
    assert _hash_of(pt.id) == content_hash(picture)
    on_disk = next(p for p in tmp_path.rglob("*") if p.is_file())
    assert picture not in on_disk.read_bytes()  # encrypted at rest
    with read_only(manager.partner_scope(partner.id)) as session:
        shown = photo.managed_photo(session, manager, pt.id, files=files)
    assert (shown.content, shown.content_type) == (picture, "image/jpeg")
    [entry] = _audit("agent_point.photo_changed", pt.id)
    assert entry.detail["sha256"] == content_hash(picture) and entry.actor_label.startswith("Bùi Văn Quản")


def test_eicar_is_refused_on_the_record_and_nothing_is_kept(point, clamd, tmp_path):  # noqa: F811
    partner, pt, manager = point
    files = FilesystemBlobStore(tmp_path)
    infected = b"\x89PNG\r\n\x1a\n" + EICAR  # dressed as a PNG, so the type check lets it through to clamd
    with pytest.raises(Infected) as refused, unit_of_work(manager.partner_scope(partner.id)) as session:
        photo.set_photo(session, manager, pt.id, infected, clamd=_scanner(clamd), files=files)
    assert "EICAR" in str(refused.value.message)
    assert _hash_of(pt.id) is None and not any(p.is_file() for p in tmp_path.rglob("*"))
    [entry] = _audit("document.refused", pt.id)
    assert entry.detail["error"] == "infected" and "EICAR" in entry.detail["signature"]
    assert entry.detail["slot"] == photo.PURPOSE and entry.object_type == "agent_point"
    assert _audit("agent_point.photo_changed", pt.id) == []


def test_a_file_that_is_no_photo_is_refused_before_the_scan(point, clamd, tmp_path):  # noqa: F811
    partner, pt, manager = point
    with pytest.raises(UnsupportedType), unit_of_work(manager.partner_scope(partner.id)) as session:
        photo.set_photo(session, manager, pt.id, a_pdf(1), clamd=_scanner(clamd), files=FilesystemBlobStore(tmp_path))
    assert _hash_of(pt.id) is None
    assert _audit("document.refused", pt.id)[0].detail["error"] == "unsupported_type"


def test_no_photo_is_taken_while_clamd_cannot_be_reached(point, tmp_path):
    partner, pt, manager = point
    nowhere = ClamdScanner(socket_path=tmp_path / "no-clamd.sock", timeout_seconds=1)
    with pytest.raises(ScanningUnavailable), unit_of_work(manager.partner_scope(partner.id)) as session:
        photo.set_photo(session, manager, pt.id, an_image("PNG"), clamd=nowhere, files=FilesystemBlobStore(tmp_path))
    assert _hash_of(pt.id) is None


def test_another_partners_manager_cannot_reach_the_point(point, clamd, tmp_path):  # noqa: F811
    _, pt, _ = point
    other = create_partner()
    stranger = create_person((Role.partner_manager, other, None))
    with pytest.raises(NotFound), unit_of_work(stranger.partner_scope(other.id)) as session:
        photo.set_photo(
            session, stranger, pt.id, an_image("PNG"), clamd=_scanner(clamd), files=FilesystemBlobStore(tmp_path)
        )
