"""The citizen's documents at the counter: each file checked by content, scanned by clamd, stored sealed.

A real clamd (the project's own, with the local EICAR database) at the socket the settings name.
"""

import re
import uuid

import pytest
from sqlalchemy import select

from agents.documents import service as documents
from agents.documents.models import DossierDocument
from agents.documents.rules import slot_code
from agents.dossiers.models import Dossier
from portal.core.audit import AuditEvent
from portal.core.blob_store import FilesystemBlobStore, content_hash
from portal.core.db import unit_of_work
from portal.core.scanner import ClamdScanner
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from portal.scanner_daemon import EICAR
from tests.agents.documents.test_rules import a_pdf, an_image
from tests.clamd import portal_clamd, zipped  # noqa: F401
from tests.factories import BIRTH_FORM, citizen, create_counter

BIRTH = "1.001193"
DECLARATION = slot_code("Tờ khai đăng ký khai sinh")
CERTIFICATE = slot_code("Giấy chứng sinh")


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Số hóa")


@pytest.fixture
def draft(portal, counter, portal_clamd):  # noqa: F811
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    draft_id = client.get(f"/dossiers/new/{BIRTH}", follow_redirects=False).headers["location"].split("/")[2]
    client.post_form(f"/drafts/{draft_id}/save", {"owner_full_name": "Trần Số Hóa"})  # its own, not reused
    return client, draft_id


def _upload(client, draft_id: str, slot: str, *files: tuple[str, bytes, str]):
    return client.http.post(
        f"/drafts/{draft_id}/documents/{slot}",
        data={"_csrf_token": client.csrf},
        files=[("file", f) for f in files],
        follow_redirects=False,
    )


def _stored(partner, draft_id: str) -> list[DossierDocument]:
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        rows = session.scalars(select(DossierDocument).where(DossierDocument.draft_id == uuid.UUID(draft_id))).all()
        session.expunge_all()
        return list(rows)


def _refusals(draft_id: str) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "document.refused", AuditEvent.object_id == draft_id)
            .order_by(AuditEvent.seq)
        ).all()
        session.expunge_all()
        return list(rows)


def test_each_required_document_has_its_slot_and_takes_pages_stored_sealed_by_content_hash(counter, draft):
    partner, _, _ = counter
    client, draft_id = draft
    page = client.get(f"/drafts/{draft_id}").text
    assert f'action="/drafts/{draft_id}/documents/{DECLARATION}"' in page
    assert f'action="/drafts/{draft_id}/documents/{CERTIFICATE}"' in page
    scan = a_pdf(2)
    photo = an_image("JPEG")
    response = _upload(
        client, draft_id, DECLARATION, ("to-khai.pdf", scan, "application/pdf"), ("trang3.jpg", photo, "image/jpeg")
    )
    assert response.status_code == 303
    stored = _stored(partner, draft_id)
    assert sorted((d.content_type, d.pages, d.slot) for d in stored) == [
        ("application/pdf", 2, DECLARATION), ("image/jpeg", 1, DECLARATION)
    ]  # fmt: skip
    pdf = next(d for d in stored if d.content_type == "application/pdf")
    assert pdf.content_hash == content_hash(scan)
    blobs = FilesystemBlobStore.from_settings(get_settings().storage)
    assert blobs.get(pdf.content_hash) == scan
    on_disk = next(p for p in blobs.root.rglob(pdf.content_hash))
    assert b"%PDF" not in on_disk.read_bytes()  # encrypted at rest
    assert "2 trang" in client.get(f"/drafts/{draft_id}").text


def test_a_file_lying_about_its_type_is_judged_by_its_content(counter, draft):
    partner, _, _ = counter
    client, draft_id = draft
    png_named_pdf = _upload(client, draft_id, CERTIFICATE, ("giay-chung-sinh.pdf", an_image("PNG"), "application/pdf"))
    assert png_named_pdf.status_code == 303
    assert [d.content_type for d in _stored(partner, draft_id)] == ["image/png"]
    text_as_pdf = _upload(client, draft_id, CERTIFICATE, ("fake.pdf", b"%PDF-1.7 not really a pdf", "application/pdf"))
    assert text_as_pdf.status_code == 422
    assert re.search(r'id="document-error-' + CERTIFICATE + r'"[^>]*>Tệp PDF bị hỏng', text_as_pdf.text)
    exe = _upload(client, draft_id, CERTIFICATE, ("scan.jpg", b"MZ\x90\x00 a program", "image/jpeg"))
    assert exe.status_code == 422 and "Nội dung tệp không phải" in exe.text
    assert len(_stored(partner, draft_id)) == 1
    assert [e.detail["error"] for e in _refusals(draft_id)] == ["malformed", "unsupported_type"]


@pytest.mark.parametrize("infected", [EICAR, zipped("cccd.pdf", EICAR)], ids=["plain", "inside a zip"])
def test_an_infected_file_is_refused_with_a_message_never_stored_and_on_the_record(counter, draft, infected):
    partner, _, _ = counter
    client, draft_id = draft
    # EICAR dressed as a PDF, so that the type check lets it through to the scanner.
    response = _upload(client, draft_id, DECLARATION, ("to-khai.pdf", b"%PDF-1.4\n" + infected, "application/pdf"))
    assert response.status_code == 422
    assert "Tệp chứa mã độc" in response.text and "EICAR" in response.text
    assert _stored(partner, draft_id) == []
    blobs = FilesystemBlobStore.from_settings(get_settings().storage)
    assert not blobs.exists(content_hash(b"%PDF-1.4\n" + infected))
    (refusal,) = _refusals(draft_id)
    assert refusal.detail["error"] == "infected" and "EICAR" in refusal.detail["signature"]


def test_an_oversized_file_and_an_unknown_slot_are_refused(counter, draft):
    partner, _, _ = counter
    client, draft_id = draft
    limit = get_settings().counter.document_max_bytes
    too_big = _upload(client, draft_id, DECLARATION, ("big.pdf", b"%PDF-1.4\n" + b"0" * limit, "application/pdf"))
    assert too_big.status_code == 422 and "Tệp quá lớn" in too_big.text
    unknown = _upload(client, draft_id, "ho-chieu", ("a.pdf", a_pdf(1), "application/pdf"))
    assert unknown.status_code == 422 and "Thủ tục này không có giấy tờ" in unknown.text
    assert _stored(partner, draft_id) == []
    assert [e.detail["error"] for e in _refusals(draft_id)] == ["too_large", "unknown_slot"]


def test_uploads_are_refused_while_clamd_cannot_be_reached(counter, draft, tmp_path):
    partner, _, staff = counter
    _, draft_id = draft
    nowhere = ClamdScanner(socket_path=tmp_path / "no-clamd.sock", timeout_seconds=1)
    with pytest.raises(documents.ScanningUnavailable), unit_of_work(Scope.partner(partner.id, actor_label="t")) as s:
        documents.upload(s, staff, uuid.UUID(draft_id), DECLARATION, a_pdf(1), "a.pdf", clamd=nowhere)
    assert _stored(partner, draft_id) == []
    assert [e.detail["error"] for e in _refusals(draft_id)] == ["scanner_unavailable"]


def test_the_filed_dossier_holds_the_drafts_documents(counter, draft):
    partner, point, _ = counter
    client, draft_id = draft
    _upload(client, draft_id, DECLARATION, ("a.pdf", a_pdf(1), "application/pdf"))
    _upload(client, draft_id, CERTIFICATE, ("b.png", an_image("PNG"), "image/png"))
    filed = client.post_form(
        f"/drafts/{draft_id}/submit",
        {"agent_point_id": str(point.id), **citizen(), **{f"form.{k}": v for k, v in BIRTH_FORM.items()}},
    )
    assert filed.status_code == 303
    dossier_id = uuid.UUID(filed.headers["location"].split("/")[2])
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        assert session.get(Dossier, dossier_id) is not None
    assert {d.dossier_id for d in _stored(partner, draft_id)} == {dossier_id}
