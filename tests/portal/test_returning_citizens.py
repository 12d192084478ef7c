"""The citizen at the counter: a returning citizen found (with consent, within the partner) and prefilled,
the proxy's written authorisation as a document, the identity check as a record, documents reused."""

import re
import uuid

import pytest
from sqlalchemy import select

from agents.documents.models import DossierDocument
from agents.documents.rules import AUTHORISATION_SLOT, slot_code
from agents.dossiers import drafts
from agents.dossiers.models import CitizenConsent, Dossier, DossierDraft, IdentityCheck
from agents.dossiers.returning import CURRENT_CONSENT
from portal.core.audit import AuditEvent
from portal.core.blob_store import FilesystemBlobStore
from portal.core.db import unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.clamd import portal_clamd  # noqa: F401
from tests.documents import a_pdf
from tests.factories import BIRTH_FORM, citizen, create_counter, file_birth_registration

BIRTH = "1.001193"
PERMANENT, TEMPORARY = "1.004222", "1.004194"  # residence: both ask for the CT01 form and proof of the home
CT01 = slot_code("Tờ khai thay đổi thông tin cư trú (CT01)")
HOME = slot_code("Giấy tờ chứng minh chỗ ở hợp pháp")
AUTHORISATION = slot_code("Văn bản ủy quyền (nếu nộp thay)")


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Công dân")


def _client(portal, staff):
    client = portal()
    client.sign_in(staff.email)
    return client


def _start(client, code: str) -> tuple[str, str]:
    """A new draft of `code`: (draft id, the point the page offers)."""
    location = client.get(f"/dossiers/new/{code}", follow_redirects=False).headers["location"]
    page = client.get(location).text
    point = re.search(r'name="agent_point_id".*?value="([^"]+)"', page, re.S).group(1)
    draft_id = location.split("/")[2]
    client.post_form(f"/drafts/{draft_id}/save", {"agent_point_id": point})  # its own draft, never resumed
    return draft_id, point


def _upload(client, draft_id: str, slot: str, data: bytes = b"", name: str = "scan.pdf"):
    return client.http.post(
        f"/drafts/{draft_id}/documents/{slot}",
        data={"_csrf_token": client.csrf},
        files=[("file", (name, data or a_pdf(), "application/pdf"))],
        follow_redirects=False,
    )


def _look_up(client, draft_id: str, identifier: str, *, consent: str | None = "owner"):
    data = {"identifier": identifier}
    if consent:
        data |= {"consent": "on", "consent_given_by": consent}
    return client.post_form(f"/drafts/{draft_id}/returning", data)


def _draft_values(partner, draft_id: str) -> dict[str, str]:
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        return drafts.values_of(session.get(DossierDraft, uuid.UUID(draft_id)))


def _rows(partner, model, **where):
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        rows = session.scalars(select(model).filter_by(**where)).all()
        session.expunge_all()
        return list(rows)


def _audit(action: str, object_id: str) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
        ).all()
        session.expunge_all()
        return list(rows)


def _file_residence(staff, point, who: dict[str, str], reason: str) -> Dossier:
    from agents.dossiers import filing

    with unit_of_work(staff.partner_scope(point.partner_id)) as session:
        return filing.file_dossier(
            session,
            staff,
            filing.FilingRequest(
                PERMANENT, point.id, uuid.uuid4().hex, who,
                {"new_address": "5 Tràng Tiền, Hoàn Kiếm", "household_head_name": "Phạm Văn Chủ",
                 "relationship_to_head": "Con", "reason": reason},
            ),
        ).dossier  # fmt: skip


def test_a_returning_citizen_is_found_only_with_consent_and_prefilled_with_what_the_procedures_share(portal, counter):
    partner, point, staff = counter
    who = citizen(owner_full_name="Phạm Thị Quay Lại", owner_id_number="001190055501", owner_phone="0912555501")
    _file_residence(staff, point, who, "Chuyển nơi làm việc")
    client = _client(portal, staff)
    draft_id, _ = _start(client, TEMPORARY)

    refused = _look_up(client, draft_id, "001190055501", consent=None)
    assert refused.status_code == 422 or refused.status_code == 403
    assert "Cần ghi nhận sự đồng ý của công dân" in refused.text
    assert "owner_full_name" not in _draft_values(partner, draft_id)
    assert [e.detail["reason"] for e in _audit("citizen.lookup_refused", draft_id)] == ["no_consent"]

    found = _look_up(client, draft_id, "001 190 055 501")
    assert found.status_code == 303
    assert found.headers["location"] == f"/drafts/{draft_id}?lookup=found&prefilled=6#citizen"
    values = _draft_values(partner, draft_id)
    assert values["owner_full_name"] == "Phạm Thị Quay Lại" and values["owner_birth_date"] == "03/02/1990"
    assert values["owner_phone"] == "0912555501" and values["owner_address"] == who["owner_address"]
    assert values["form.reason"] == "Chuyển nơi làm việc"  # the field both residence procedures have
    assert "form.temporary_address" not in values  # not asked by the earlier one: left to type
    (consent,) = _rows(partner, CitizenConsent, draft_id=uuid.UUID(draft_id))
    assert (consent.given_by, consent.text_version, consent.recorded_by) == ("owner", CURRENT_CONSENT, staff.account_id)
    assert consent.recorded_at is not None
    (looked_up,) = _audit("citizen.looked_up", draft_id)
    assert looked_up.detail["by"] == "id_number" and looked_up.detail["found"] == 1
    assert "001190055501" not in str(looked_up.detail)  # the number itself never reaches the log
    page = client.get(found.headers["location"]).text
    assert "điền sẵn 6 trường" in page and 'value="Phạm Thị Quay Lại"' in page
    assert 'data-testid="consent"' in page  # the consent on record, with its text version

    # By phone too; and prefilling never overwrites what was typed since.
    client.post_form(f"/drafts/{draft_id}/save", {**values, "owner_address": "Địa chỉ mới"})
    assert _look_up(client, draft_id, "0912 555 501", consent=None).status_code == 303
    assert _draft_values(partner, draft_id)["owner_address"] == "Địa chỉ mới"


def test_another_partners_citizens_are_never_found(portal, counter):
    partner, _, staff = counter
    _, other_point, other_staff = create_counter("Bưu điện Đối tác khác")
    file_birth_registration(other_staff, other_point, owner_id_number="001190055599", owner_phone="0912555599")
    client = _client(portal, staff)
    draft_id, _ = _start(client, BIRTH)
    for identifier in ("001190055599", "0912555599"):
        response = _look_up(client, draft_id, identifier)
        assert response.headers["location"] == f"/drafts/{draft_id}?lookup=none#citizen"
    assert "owner_full_name" not in _draft_values(partner, draft_id)
    assert [e.detail["found"] for e in _audit("citizen.looked_up", draft_id)] == [0, 0]
    assert "Không tìm thấy hồ sơ trước nào" in client.get(f"/drafts/{draft_id}?lookup=none").text
    bad = _look_up(client, draft_id, "12ab")
    assert bad.status_code == 422 and "Không phải số CCCD hay số điện thoại" in bad.text
    assert len(_rows(partner, CitizenConsent, draft_id=uuid.UUID(draft_id))) == 2  # the refused one recorded none


def test_a_proxy_files_with_the_written_authorisation_as_a_scanned_document(portal, counter, portal_clamd):  # noqa: F811
    partner, _, staff = counter
    client = _client(portal, staff)
    draft_id, point = _start(client, BIRTH)
    page = client.get(f"/drafts/{draft_id}").text
    assert 'name="proxy_authorisation"' not in page  # no longer a text typed
    assert f'form="upload-form-{AUTHORISATION}"' in page  # but an upload in the proxy's block
    for slot in ("to-khai-dang-ky-khai-sinh", "giay-chung-sinh"):
        assert _upload(client, draft_id, slot).status_code == 303
    filing = {
        "agent_point_id": point, **citizen(owner_id_number="001190055502"),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
        "proxy_full_name": "Lê Văn Nộp Thay", "proxy_id_number": "001080055502", "proxy_phone": "0901555502",
    }  # fmt: skip
    refused = client.post_form(f"/drafts/{draft_id}/submit", filing)
    assert refused.status_code == 422 and "Văn bản ủy quyền (nếu nộp thay)" in refused.text
    assert re.search(r'id="slot-' + AUTHORISATION + r'"[^>]*data-state="not_digitised"', refused.text)

    assert _upload(client, draft_id, AUTHORISATION, a_pdf(2), "uy-quyen.pdf").status_code == 303
    filed = client.post_form(f"/drafts/{draft_id}/submit", filing)
    assert filed.status_code == 303, filed.text[:2000]
    dossier_id = uuid.UUID(filed.headers["location"].split("/")[2])
    (dossier,) = _rows(partner, Dossier, id=dossier_id)
    assert dossier.proxy_full_name == "Lê Văn Nộp Thay"
    assert dossier.proxy_authorisation == "Văn bản ủy quyền: 2 tr."
    slots = {d.slot for d in _rows(partner, DossierDocument, dossier_id=dossier_id)}
    assert AUTHORISATION in slots
    receipt = client.get(filed.headers["location"]).text
    assert "Lê Văn Nộp Thay" in receipt and "Văn bản ủy quyền (nếu nộp thay)" in receipt


def test_every_procedure_has_a_slot_for_the_authorisation():
    from agents.documents.rules import document_slots

    slots = document_slots(["Tờ khai thay đổi thông tin cư trú (CT01)"])
    assert [s.code for s in slots] == [CT01, AUTHORISATION_SLOT.code] and slots[-1].authorisation
    own = document_slots(["Giấy chứng sinh", "Giấy ủy quyền (nếu có)"])
    assert [s.authorisation for s in own] == [False, True] and not own[1].mandatory


def test_the_identity_check_is_a_record_matched_against_the_owners_number(portal, counter):
    partner, _, staff = counter
    client = _client(portal, staff)
    draft_id, point = _start(client, BIRTH)
    client.attach_scans(f"/drafts/{draft_id}", client.get(f"/drafts/{draft_id}").text)
    owner = citizen(owner_id_number="001190055503")
    client.post_form(f"/drafts/{draft_id}/save", {"agent_point_id": point, **owner})

    wrong = client.post_form(
        f"/drafts/{draft_id}/identity-check", {"party": "owner", "document_kind": "cccd_chip", "number": "001190055504"}
    )
    assert wrong.status_code == 422 and "không khớp" in wrong.text
    assert _rows(partner, IdentityCheck, draft_id=uuid.UUID(draft_id)) == []
    (refusal,) = _audit("identity.check_refused", draft_id)
    assert refusal.detail["fields"] == ["number"] and "001190055504" not in str(refusal.detail)
    unknown = client.post_form(
        f"/drafts/{draft_id}/identity-check", {"party": "owner", "document_kind": "cmnd", "number": "001190055503"}
    )
    assert unknown.status_code == 422

    checked = client.post_form(
        f"/drafts/{draft_id}/identity-check",
        {"party": "owner", "document_kind": "vneid_level2", "number": "001190055503"},
    )
    assert checked.status_code == 303
    (check,) = _rows(partner, IdentityCheck, draft_id=uuid.UUID(draft_id))
    assert (check.party, check.document_kind.value, check.checked_by) == ("owner", "vneid_level2", staff.account_id)
    assert check.checked_at is not None and "001190055503" not in check.number_index
    assert 'data-testid="identity-owner"' in client.get(f"/drafts/{draft_id}").text

    data = {"agent_point_id": point, **owner, **{f"form.{k}": v for k, v in BIRTH_FORM.items()}}
    stale = client.post_form(f"/drafts/{draft_id}/submit", {**data, "owner_id_number": "001190055505"})
    assert stale.status_code == 422 and "hãy kiểm tra lại" in stale.text
    filed = client.post_form(f"/drafts/{draft_id}/submit", data)
    assert filed.status_code == 303
    dossier_id = uuid.UUID(filed.headers["location"].split("/")[2])
    assert [c.dossier_id for c in _rows(partner, IdentityCheck, draft_id=uuid.UUID(draft_id))] == [dossier_id]
    assert [c.dossier_id for c in _rows(partner, CitizenConsent, draft_id=uuid.UUID(draft_id))] == []


def test_a_document_digitised_once_is_offered_again_with_consent_and_reused_by_its_hash(portal, counter, portal_clamd):  # noqa: F811
    partner, _, staff = counter
    client = _client(portal, staff)
    who = citizen(owner_full_name="Đỗ Văn Dùng Lại", owner_id_number="001190055506", owner_phone="0912555506")
    first, point = _start(client, PERMANENT)
    scan = a_pdf(3)
    assert _upload(client, first, CT01, scan, "ct01.pdf").status_code == 303
    assert _upload(client, first, HOME).status_code == 303
    filed = client.post_form(
        f"/drafts/{first}/submit",
        {"agent_point_id": point, **who, "form.new_address": "5 Tràng Tiền", "form.household_head_name": "Đỗ Văn Chủ",
         "form.relationship_to_head": "Con"},
    )  # fmt: skip
    assert filed.status_code == 303, filed.text[:1000]

    second, point = _start(client, TEMPORARY)
    client.post_form(f"/drafts/{second}/save", {"agent_point_id": point, **who})
    page = client.get(f"/drafts/{second}").text
    assert f'data-testid="reuse-{CT01}"' not in page  # no consent yet: nothing of the earlier dossier shown
    assert re.search(r'id="slot-' + CT01 + r'"[^>]*data-state="not_digitised"', page)
    _look_up(client, second, who["owner_id_number"])
    page = client.get(f"/drafts/{second}").text
    assert f'data-testid="reuse-{CT01}"' in page and f'data-testid="reuse-{HOME}"' in page
    (earlier,) = [d for d in _rows(partner, DossierDocument, slot=CT01) if d.draft_id == uuid.UUID(first)]

    blobs = FilesystemBlobStore.from_settings(get_settings().storage)
    files_before = sorted(p.name for p in blobs.root.rglob("*") if p.is_file())
    reused = client.post_form(f"/drafts/{second}/documents/{CT01}/reuse/{earlier.id}", {})
    assert reused.status_code == 303
    (row,) = _rows(partner, DossierDocument, draft_id=uuid.UUID(second))
    assert (row.content_hash, row.reused_from_id, row.pages) == (earlier.content_hash, earlier.id, 3)
    assert sorted(p.name for p in blobs.root.rglob("*") if p.is_file()) == files_before  # no copy
    page = client.get(f"/drafts/{second}").text
    assert re.search(r'id="slot-' + CT01 + r'"[^>]*data-state="reused"', page)
    assert f'data-testid="reuse-{CT01}"' not in page  # already in: not offered twice
    (event,) = _audit("document.reused", str(row.id))
    assert event.detail["sha256"] == earlier.content_hash and event.detail["from_dossier"] == str(earlier.dossier_id)

    # Another citizen's draft, or a document not offered to this slot, cannot take it.
    third, _ = _start(client, TEMPORARY)
    client.post_form(f"/drafts/{third}/save", {**who, "owner_id_number": "001190055507"})
    _look_up(client, third, "001190055507")
    assert client.post_form(f"/drafts/{third}/documents/{CT01}/reuse/{earlier.id}", {}).status_code == 404
    assert client.post_form(f"/drafts/{second}/documents/{HOME}/reuse/{earlier.id}", {}).status_code == 404
