"""Drafts at the counter: a dossier starts as a draft, is saved as it is typed, and is filed once."""

import re
import uuid

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text

from agents.dossiers import drafts
from agents.dossiers.models import Dossier, DossierDraft, DraftState
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import BIRTH_FORM, citizen, create_partner, create_point, create_staff, ensure_procedures

BIRTH = "1.001193"


@pytest.fixture(scope="module")
def counter():
    ensure_procedures()
    partner = create_partner()
    point = create_point(partner, name="Bưu điện Nháp")
    return partner, point, create_staff(point, partner), create_staff(point, partner)


def _signed_in(portal, staff):
    client = portal()
    client.sign_in(staff.email)
    return client


def _start(client, *, scans: bool = True) -> tuple[str, str, str]:
    """Pick the procedure, put in its mandatory scans: (draft id, its idempotency key, the point offered)."""
    response = client.get(f"/dossiers/new/{BIRTH}", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/drafts/[0-9a-f-]{36}", location)
    page = client.get(location).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    point = re.search(r'name="agent_point_id".*?value="([^"]+)"', page, re.S).group(1)
    if scans:
        client.attach_scans(location, page)
    return location.split("/")[2], key, point


def _whole_filing(point: str) -> dict[str, str]:
    return {"agent_point_id": point, **citizen(), **{f"form.{k}": v for k, v in BIRTH_FORM.items()}}


def _dossiers_with_key(partner, key: str) -> int:
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        return session.scalar(select(func.count()).select_from(Dossier).where(Dossier.idempotency_key == key))


def _draft(partner, draft_id: str) -> DossierDraft:
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        draft = session.get(DossierDraft, uuid.UUID(draft_id))
        session.expunge(draft)
        return draft


def test_picking_the_procedure_starts_a_draft_whose_key_the_server_gave(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, key, _ = _start(client, scans=False)
    draft = _draft(partner, draft_id)
    assert draft.state is DraftState.open and draft.idempotency_key == key
    assert draft.staff_account_id == staff.account_id
    assert 'action="/drafts/' + draft_id + '/submit"' in client.get(f"/drafts/{draft_id}").text
    # Picking it again with nothing typed resumes the same empty draft rather than piling up new ones.
    assert _start(client, scans=False)[0] == draft_id


def test_what_is_typed_is_saved_sealed_and_comes_back_when_the_draft_is_resumed(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, _, point = _start(client, scans=False)
    saved = client.post_form(
        f"/drafts/{draft_id}/save",
        {"agent_point_id": point, "owner_full_name": "Lê Thị Nháp", "owner_id_number": "001190000321",
         "form.child_full_name": "Lê Minh Bé", "not_a_field": "dropped"},
    )  # fmt: skip
    assert saved.status_code == 201 and saved.json()["saved_at"]
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        stored = text("SELECT values_sealed FROM dossier_drafts WHERE id = :id").bindparams(
            bindparam("id", type_=Uuid())
        )
        raw = session.execute(stored, {"id": uuid.UUID(draft_id)}).scalar_one()
    assert "001190000321" not in raw and "Nháp" not in raw  # encrypted at rest, like the other personal data

    # A new tab (the old one closed, crashed, lost its connection): the list offers it, the page has it all.
    other_tab = _signed_in(portal, staff)
    listed = other_tab.get("/dossiers/new").text
    assert f'href="/drafts/{draft_id}"' in listed and "Lê Thị Nháp" in listed
    page = other_tab.get(f"/drafts/{draft_id}").text
    assert 'value="Lê Thị Nháp"' in page and 'value="001190000321"' in page and 'value="Lê Minh Bé"' in page
    assert "dropped" not in page
    assert drafts.values_of(_draft(partner, draft_id)).keys() == {
        "agent_point_id", "owner_full_name", "owner_id_number", "form.child_full_name"
    }  # fmt: skip


def test_a_refused_submit_keeps_what_was_typed_in_the_draft(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, key, point = _start(client)
    refused = client.post_form(f"/drafts/{draft_id}/submit", {**_whole_filing(point), "owner_id_number": "12"})
    assert refused.status_code == 422 and "Số CCCD phải gồm đúng 12 chữ số" in refused.text
    assert _dossiers_with_key(partner, key) == 0
    assert _draft(partner, draft_id).state is DraftState.open
    assert drafts.values_of(_draft(partner, draft_id))["owner_id_number"] == "12"


def test_a_double_click_a_retry_and_back_then_submit_again_file_one_dossier(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, key, point = _start(client)
    data = _whole_filing(point)
    first = client.post_form(f"/drafts/{draft_id}/submit", data)
    double_click = client.post_form(f"/drafts/{draft_id}/submit", data)
    # Back to the page the browser kept, changed a letter, submitted again: still the same dossier.
    back_and_again = client.post_form(f"/drafts/{draft_id}/submit", {**data, "owner_full_name": "Nguyễn Văn Ân"})
    # The old filing address with the draft's key (the page loaded before a deploy) is the same draft.
    old_address = client.post_form(f"/dossiers/new/{BIRTH}", {**data, "idempotency_key": key})
    receipts = {r.headers["location"] for r in (first, double_click, back_and_again, old_address)}
    assert all(r.status_code == 303 for r in (first, double_click, back_and_again, old_address))
    assert len(receipts) == 1 and receipts.pop().endswith("/receipt")
    assert _dossiers_with_key(partner, key) == 1
    draft = _draft(partner, draft_id)
    assert draft.state is DraftState.submitted and draft.dossier_id is not None
    assert drafts.values_of(draft) == {}  # the dossier holds the citizen's data now, not the draft
    # Reopening the draft shows its dossier; autosave into it is refused.
    assert client.get(f"/drafts/{draft_id}", follow_redirects=False).headers["location"] == (
        f"/dossiers/{draft.dossier_id}/receipt"
    )
    assert client.post_form(f"/drafts/{draft_id}/save", {"owner_full_name": "x"}).status_code == 409


def test_the_dossier_records_its_counter_time_and_the_filing_no_longer_lists_the_draft(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, _, point = _start(client)
    client.post_form(f"/drafts/{draft_id}/save", {"owner_full_name": "Phạm Hẹn Giờ"})
    assert "Phạm Hẹn Giờ" in client.get("/dossiers/new").text
    filed = client.post_form(f"/drafts/{draft_id}/submit", {**_whole_filing(point), "owner_full_name": "Phạm Hẹn Giờ"})
    assert filed.status_code == 303
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        dossier = session.get(Dossier, uuid.UUID(filed.headers["location"].split("/")[2]))
        assert dossier.counter_seconds is not None and dossier.counter_seconds >= 0
    assert f'href="/drafts/{draft_id}"' not in client.get("/dossiers/new").text


def test_a_draft_is_its_creators_alone(portal, counter):
    partner, _, staff, colleague = counter
    draft_id, _, point = _start(_signed_in(portal, staff))
    other = _signed_in(portal, colleague)
    elsewhere = create_partner()
    stranger = _signed_in(portal, create_staff(create_point(elsewhere), elsewhere))
    for client in (other, stranger):
        assert client.get(f"/drafts/{draft_id}").status_code == 404
        assert client.post_form(f"/drafts/{draft_id}/save", {"owner_full_name": "x"}).status_code == 404
        assert client.post_form(f"/drafts/{draft_id}/submit", _whole_filing(point)).status_code == 404
    assert drafts.values_of(_draft(partner, draft_id)) == {}


def test_a_discarded_draft_keeps_nothing_and_cannot_be_filed(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, key, point = _start(client)
    client.post_form(f"/drafts/{draft_id}/save", {"owner_full_name": "Bỏ Đi"})
    assert client.post_form(f"/drafts/{draft_id}/discard", {}).status_code == 303
    draft = _draft(partner, draft_id)
    assert draft.state is DraftState.discarded and drafts.values_of(draft) == {}
    assert client.post_form(f"/drafts/{draft_id}/submit", _whole_filing(point)).status_code == 409
    assert _dossiers_with_key(partner, key) == 0


def test_submit_is_refused_with_the_list_of_what_is_missing_documents_and_fields_alike(portal, counter):
    partner, _, staff, _ = counter
    client = _signed_in(portal, staff)
    draft_id, key, point = _start(client, scans=False)
    refused = client.post_form(f"/drafts/{draft_id}/submit", {**_whole_filing(point), "owner_phone": ""})
    assert refused.status_code == 422
    assert "Hồ sơ chưa đủ để gửi; còn thiếu: Tờ khai đăng ký khai sinh; Giấy chứng sinh" in refused.text
    assert re.search(r'id="document-error-to-khai-dang-ky-khai-sinh"[^>]*>Chưa có giấy tờ này', refused.text)
    assert re.search(r'id="owner_phone-error"[^>]*>Bắt buộc nhập', refused.text)  # every gap at once
    assert "document-error-van-ban-uy-quyen" not in refused.text  # only when filed by a proxy
    assert _dossiers_with_key(partner, key) == 0
    client.attach_scans(f"/drafts/{draft_id}", client.get(f"/drafts/{draft_id}").text)
    assert client.post_form(f"/drafts/{draft_id}/submit", _whole_filing(point)).status_code == 303
    assert _dossiers_with_key(partner, key) == 1
