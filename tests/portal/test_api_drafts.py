"""The counter's drafts through the JSON API: a partner system files a whole dossier, documents and all.

A bank's branch software starts a draft, saves what it learns, puts the citizen's documents into
their slots (checked by content, scanned by a real clamd, stored sealed), records the identity
check, and submits once; it gets the receipt. Every bad input is refused with a clear answer,
nothing of it is kept, and the refusal is on the audit log. In-process over HTTP, as a partner
system with its bearer token (tests/portal/test_api_clients.py); SQLite and PostgreSQL (RLS).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from agents.api_clients import service as api_clients
from agents.documents.models import DossierDocument
from agents.documents.rules import slot_code
from agents.dossiers import drafts
from agents.dossiers.models import Dossier, DossierDraft, IdentityCheck
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.blob_store import content_hash
from portal.core.crypto import blind_index
from portal.core.db import unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from portal.scanner_daemon import EICAR
from tests.agents.documents.test_rules import a_pdf, an_image
from tests.clamd import portal_clamd, zipped  # noqa: F401
from tests.factories import BIRTH_FORM, create_partner, create_person, create_point, ensure_procedures, reload_dossier
from tests.races import race

BIRTH = "1.001193"
DECLARATION = slot_code("Tờ khai đăng ký khai sinh")
CERTIFICATE = slot_code("Giấy chứng sinh")
AUTHORISATION = slot_code("Văn bản ủy quyền (nếu nộp thay)")
OWNER = {
    "full_name": "Nguyễn Văn An",
    "id_number": "001090012345",
    "birth_date": "1990-02-03",
    "phone": "0912345678",
    "address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
}


@pytest.fixture(scope="module")
def bank():
    """A bank with two branches, each with its own client (one accountable manager), and another partner."""
    ensure_procedures()
    a = create_partner(name="Ngân hàng Nháp")
    branch = create_point(a, name="Chi nhánh Tràng Tiền")
    other_branch = create_point(a, name="Chi nhánh Kim Mã")
    manager = create_person((Role.partner_manager, a, None), name="Lê Quản Lý")
    b = create_partner(name="Đối tác Khác")
    point_b = create_point(b)
    manager_b = create_person((Role.partner_manager, b, None))
    return {
        "a": a,
        "branch": branch,
        "manager": manager,
        "client": _client(manager, a, branch),
        "other_branch_client": _client(manager, a, other_branch),
        "readonly_client": _client(manager, a, branch, scopes=["dossiers:read"]),
        "writeonly_client": _client(manager, a, branch, scopes=["dossiers:write"]),
        "client_b": _client(manager_b, b, point_b),
    }


def _client(manager, partner, point, scopes=("dossiers:write", "dossiers:read")):
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        return api_clients.register_client(
            session, manager, name=f"Phần mềm {point.name}", scopes=list(scopes), agent_point_id=point.id
        )


class PartnerSystem:
    """A partner's software calling the API with its bearer token."""

    def __init__(self, http, credentials) -> None:  # type: ignore[no-untyped-def]
        client, secret = credentials
        token = http.post(
            "/api/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, secret)
        ).json()["access_token"]
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}

    def post(self, url: str, body: dict | None = None):  # type: ignore[no-untyped-def]
        return self.http.post(url, json=body, headers=self.headers)

    def patch(self, url: str, body: dict):  # type: ignore[no-untyped-def]
        return self.http.patch(url, json=body, headers=self.headers)

    def put(self, url: str, body: dict):  # type: ignore[no-untyped-def]
        return self.http.put(url, json=body, headers=self.headers)

    def get(self, url: str):  # type: ignore[no-untyped-def]
        return self.http.get(url, headers=self.headers)

    def put_file(self, draft_id: str, slot: str, name: str, data: bytes, kind: str = "application/pdf"):  # type: ignore[no-untyped-def]
        return self.http.put(
            f"/api/v1/drafts/{draft_id}/documents/{slot}", files=[("file", (name, data, kind))], headers=self.headers
        )

    def start(self, **body):  # type: ignore[no-untyped-def]
        response = self.post("/api/v1/drafts", {"procedure_code": BIRTH, **body})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def complete_draft(self, **body) -> str:  # type: ignore[no-untyped-def]
        """A draft with everything a birth registration needs."""
        draft_id = self.start(owner=OWNER, form=dict(BIRTH_FORM), **body)
        for slot in (DECLARATION, CERTIFICATE):
            assert self.put_file(draft_id, slot, f"{slot}.pdf", a_pdf(1)).status_code == 201
        return draft_id


@pytest.fixture
def system(portal, bank, portal_clamd):  # noqa: F811
    return PartnerSystem(portal().http, bank["client"])


def _audit(action: str, object_id: str | None = None) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test reads the audit log", actor_label="test")) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        if object_id is not None:
            query = query.where(AuditEvent.object_id == object_id)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def _documents(partner, draft_id: str) -> list[DossierDocument]:
    with unit_of_work(Scope.partner(partner.id, actor_label="test")) as session:
        rows = list(session.scalars(select(DossierDocument).where(DossierDocument.draft_id == uuid.UUID(draft_id))))
        session.expunge_all()
        return rows


def _dossiers_with_key(partner, draft_id: str) -> int:
    with unit_of_work(Scope.partner(partner.id, actor_label="test")) as session:
        draft = session.get(DossierDraft, uuid.UUID(draft_id))
        return session.scalar(
            select(func.count()).select_from(Dossier).where(Dossier.idempotency_key == draft.idempotency_key)
        )


# -- the whole filing ------------------------------------------------------------------------------


def test_a_partner_system_files_a_whole_dossier_through_a_draft_and_gets_its_receipt(system, bank):
    started = system.post("/api/v1/drafts", {"procedure_code": BIRTH, "owner": {"full_name": "Nguyễn Văn An"}})
    assert started.status_code == 201, started.text
    draft = started.json()
    draft_id = draft["id"]
    assert draft["state"] == "open" and draft["agent_point_id"] == str(bank["branch"].id)
    assert draft["owner"] == {"full_name": "Nguyễn Văn An"}
    # What is still missing, in the API's names: the owner's block, the form's required fields, the documents.
    assert draft["missing"] == [
        "owner.id_number", "owner.birth_date", "owner.phone", "owner.address",
        "form.child_full_name", "form.child_birth_date", "form.child_sex", "form.birth_place", "form.mother_full_name",
        f"documents.{DECLARATION}", f"documents.{CERTIFICATE}",
    ]  # fmt: skip
    assert [(s["slot"], s["mandatory"]) for s in draft["documents"]] == [
        (DECLARATION, True), (CERTIFICATE, True), (AUTHORISATION, False)
    ]  # fmt: skip

    changed = system.patch(
        f"/api/v1/drafts/{draft_id}",
        {"owner": OWNER, "form": dict(BIRTH_FORM), "notify": {"sms": True, "email": "an.nguyen@example.vn"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["missing"] == [f"documents.{DECLARATION}", f"documents.{CERTIFICATE}"]

    scan = a_pdf(2)
    stored = system.put_file(draft_id, DECLARATION, "to-khai.pdf", scan)
    assert stored.status_code == 201, stored.text
    assert stored.json() | {"id": None} == {
        "id": None, "slot": DECLARATION, "hash": content_hash(scan), "type": "application/pdf", "pages": 2,
        "size_bytes": len(scan),
    }  # fmt: skip
    photo = an_image("JPEG")
    assert system.put_file(draft_id, CERTIFICATE, "giay-chung-sinh.jpg", photo, "image/jpeg").status_code == 201

    checked = system.put(
        f"/api/v1/drafts/{draft_id}/identity-check",
        {"document_kind": "cccd_chip", "number": OWNER["id_number"]},
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["matched"] is True and checked.json()["party"] == "owner"
    assert checked.json()["checked_by"] == str(bank["manager"].account_id)  # the client's accountable person

    ready = system.get(f"/api/v1/drafts/{draft_id}").json()
    assert ready["missing"] == [] and [c["document_kind"] for c in ready["identity_checks"]] == ["cccd_chip"]
    assert ready["notify"] == {"sms": True, "email": "an.nguyen@example.vn"}

    filed = system.post(f"/api/v1/drafts/{draft_id}/submit")
    assert filed.status_code == 201, filed.text
    dossier = filed.json()
    assert dossier["tracking_code"].startswith("HN-") and dossier["expected_result_date"]
    stored_dossier = reload_dossier(uuid.UUID(dossier["id"]))
    assert stored_dossier.expected_result_date.isoformat() == dossier["expected_result_date"]
    assert stored_dossier.agent_point_id == bank["branch"].id and stored_dossier.owner_id_number == OWNER["id_number"]
    # The citizen's choice reaches the dossier's notification preferences, as the page's does.
    assert (stored_dossier.notify_sms, stored_dossier.notify_email) == (True, "an.nguyen@example.vn")
    assert {d.dossier_id for d in _documents(bank["a"], draft_id)} == {stored_dossier.id}
    with unit_of_work(Scope.partner(bank["a"].id, actor_label="test")) as session:
        check = session.scalar(select(IdentityCheck).where(IdentityCheck.draft_id == uuid.UUID(draft_id)))
        assert check.dossier_id == stored_dossier.id and check.number_index == blind_index(OWNER["id_number"])
    [entry] = _audit("identity.checked", str(check.id))
    assert entry.detail["document_kind"] == "cccd_chip" and bank["client"][0].client_id in entry.actor_label

    again = system.post(f"/api/v1/drafts/{draft_id}/submit")  # a retry after a timeout
    assert again.status_code == 201 and again.json()["id"] == dossier["id"]
    assert _dossiers_with_key(bank["a"], draft_id) == 1
    after = system.get(f"/api/v1/drafts/{draft_id}").json()
    assert (after["state"], after["dossier_id"], after["missing"], after["owner"]) == (
        "submitted",
        dossier["id"],
        [],
        {},
    )

    receipt = system.get(f"/api/v1/dossiers/{dossier['id']}/receipt.pdf")
    assert receipt.status_code == 200, receipt.text[:300]
    assert receipt.headers["content-type"] == "application/pdf" and receipt.content.startswith(b"%PDF")
    assert _audit("dossier.personal_data_viewed", dossier["id"])  # the view of the citizen's data is on the record


def test_a_proxy_block_once_begun_must_be_whole_and_the_page_sees_the_same_choice(system, bank):
    draft_id = system.start(
        owner=OWNER, form=dict(BIRTH_FORM), proxy={"full_name": "Trần Văn Bảo"}, notify={"sms": False}
    )
    missing = system.get(f"/api/v1/drafts/{draft_id}").json()["missing"]
    # The proxy's written authorisation is a document (its slot), mandatory once someone files for the owner.
    assert {"proxy.id_number", "proxy.phone", f"documents.{AUTHORISATION}"} <= set(missing)
    typed = system.patch(f"/api/v1/drafts/{draft_id}", {"proxy": {"authorisation": "Giấy ủy quyền số 5"}})
    assert typed.status_code == 422 and set(typed.json()["field_errors"]) == {"proxy.authorisation"}
    with unit_of_work(Scope.partner(bank["a"].id, actor_label="test")) as session:
        values = drafts.values_of(session.get(DossierDraft, uuid.UUID(draft_id)))
    # Kept under the page's own names: the counter page shows (and files) exactly this choice.
    assert values["proxy_full_name"] == "Trần Văn Bảo" and "notify_sms" not in values


# -- what is missing or wrong ------------------------------------------------------------------------


def test_submit_refuses_what_is_missing_with_the_list_and_keeps_nothing_of_it(system, bank):
    draft_id = system.start(owner={"full_name": "Nguyễn Văn An", "phone": "123"})
    refused = system.post(f"/api/v1/drafts/{draft_id}/submit")
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "incomplete"
    assert body["missing"][:4] == ["owner.id_number", "owner.birth_date", "owner.address", "form.child_full_name"]
    assert f"documents.{CERTIFICATE}" in body["missing"]
    assert body["field_errors"]["owner.phone"]  # and what is wrong besides, at once
    assert _dossiers_with_key(bank["a"], draft_id) == 0
    [entry] = _audit("dossier.draft_refused", draft_id)
    assert entry.detail["step"] == "submit" and entry.detail["error"] == "incomplete"
    assert system.get(f"/api/v1/drafts/{draft_id}").json()["state"] == "open"


def test_a_form_that_fails_its_schema_or_a_cross_field_rule_is_refused_field_by_field(system, bank):
    draft_id = system.complete_draft()
    assert system.patch(f"/api/v1/drafts/{draft_id}", {"form": {"child_sex": "Khác"}}).status_code == 200
    refused = system.post(f"/api/v1/drafts/{draft_id}/submit")
    assert refused.status_code == 422 and refused.json()["error"] == "validation_failed"
    assert set(refused.json()["field_errors"]) == {"form.child_sex"}

    stay = system.post(
        "/api/v1/drafts",
        {"procedure_code": "1.004194", "owner": OWNER,
         "form": {"temporary_address": "5 Lý Thái Tổ", "from_date": "2026-12-10", "to_date": "2026-12-01"}},
    )  # fmt: skip
    stay_id = stay.json()["id"]
    for slot in [s["slot"] for s in stay.json()["documents"] if s["mandatory"]]:
        assert system.put_file(stay_id, slot, "a.pdf", a_pdf(1)).status_code == 201
    crossed = system.post(f"/api/v1/drafts/{stay_id}/submit")
    assert crossed.status_code == 422
    assert crossed.json()["field_errors"] == {"form.to_date": "Ngày kết thúc tạm trú không được trước ngày bắt đầu"}
    assert [e.detail["error"] for e in _audit("dossier.draft_refused", stay_id)] == ["validation_failed"]


def test_a_field_the_draft_cannot_hold_is_refused_and_nothing_is_saved(system, bank):
    draft_id = system.start(owner={"full_name": "Nguyễn Văn An"})
    refused = system.patch(
        f"/api/v1/drafts/{draft_id}",
        {"owner": {"fulll_name": "x", "phone": "0912345678"}, "form": {"unknown": "x", "child_sex": ["Nam"]}},
    )
    assert refused.status_code == 422
    assert set(refused.json()["field_errors"]) == {"owner.fulll_name", "form.unknown", "form.child_sex"}
    assert system.get(f"/api/v1/drafts/{draft_id}").json()["owner"] == {"full_name": "Nguyễn Văn An"}
    assert _audit("dossier.draft_refused", draft_id)[-1].detail["step"] == "change"
    unknown = system.post("/api/v1/drafts", {"procedure_code": "9.999999"})
    assert unknown.status_code == 404


# -- documents ---------------------------------------------------------------------------------------


def test_a_document_is_judged_by_its_content_and_a_put_replaces_the_slots_file(system, bank):
    draft_id = system.start()
    png_named_pdf = system.put_file(draft_id, CERTIFICATE, "giay-chung-sinh.pdf", an_image("PNG"))
    assert png_named_pdf.status_code == 201 and png_named_pdf.json()["type"] == "image/png"
    replaced = system.put_file(draft_id, CERTIFICATE, "giay-chung-sinh.pdf", a_pdf(3))
    assert replaced.status_code == 201 and replaced.json()["pages"] == 3
    assert [(d.slot, d.content_type) for d in _documents(bank["a"], draft_id)] == [(CERTIFICATE, "application/pdf")]


@pytest.mark.parametrize(
    ("data", "slot", "error", "reason"),
    [
        (b"MZ\x90\x00 a program", CERTIFICATE, "unsupported_type", "unsupported_type"),
        (b"%PDF-1.7 not really a pdf", CERTIFICATE, "unsupported_type", "malformed"),
        (b"%PDF-1.4\n" + EICAR, DECLARATION, "infected", "infected"),
        (b"%PDF-1.4\n" + zipped("cccd.pdf", EICAR), DECLARATION, "infected", "infected"),
        (a_pdf(1), "ho-chieu", "unknown_slot", "unknown_slot"),
    ],
    ids=["lies about its type", "a PDF that is not a PDF", "EICAR", "EICAR inside a zip", "no such slot"],
)
def test_a_refused_file_answers_one_of_four_words_and_nothing_is_stored(system, bank, data, slot, error, reason):
    draft_id = system.start()
    refused = system.put_file(draft_id, slot, "scan.pdf", data)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == error and body["reason"] == reason and body["message"]
    assert _documents(bank["a"], draft_id) == []
    [entry] = _audit("document.refused", draft_id)
    assert entry.detail["error"] == reason
    assert _audit("dossier.draft_refused", draft_id) == []  # on the record once


def test_an_oversized_file_is_too_large(system, bank):
    draft_id = system.start()
    limit = get_settings().counter.document_max_bytes
    refused = system.put_file(draft_id, DECLARATION, "big.pdf", b"%PDF-1.4\n" + b"0" * limit)
    assert refused.status_code == 422 and refused.json()["error"] == "too_large"
    assert "Tệp quá lớn" in refused.json()["message"]
    assert _documents(bank["a"], draft_id) == []


def test_a_put_without_exactly_one_file_is_refused(system, bank):
    draft_id = system.start()
    none = system.http.put(
        f"/api/v1/drafts/{draft_id}/documents/{CERTIFICATE}",
        files=[("other", ("a.pdf", a_pdf(1)))],
        headers=system.headers,
    )
    assert none.status_code == 400 and "file" in none.text
    assert _documents(bank["a"], draft_id) == []


# -- the identity check --------------------------------------------------------------------------------


def test_the_identity_check_must_match_the_owners_number_and_a_later_change_of_it_stops_the_filing(system, bank):
    draft_id = system.complete_draft()
    url = f"/api/v1/drafts/{draft_id}/identity-check"
    wrong = system.put(url, {"document_kind": "passport", "number": "001090099999"})
    assert wrong.status_code == 422 and wrong.json()["error"] == "identity_mismatch"
    assert set(wrong.json()["field_errors"]) == {"number"}
    odd = system.put(url, {"document_kind": "driving_licence", "number": OWNER["id_number"], "party": "owner"})
    assert odd.status_code == 422 and set(odd.json()["field_errors"]) == {"document_kind"}
    assert len(_audit("identity.check_refused", draft_id)) == 2
    assert _audit("dossier.draft_refused", draft_id) == []  # on the record once
    assert system.get(f"/api/v1/drafts/{draft_id}").json()["identity_checks"] == []

    assert system.put(url, {"document_kind": "vneid_level2", "number": OWNER["id_number"]}).status_code == 200
    system.patch(f"/api/v1/drafts/{draft_id}", {"owner": {"id_number": "001090054321"}})
    assert system.get(f"/api/v1/drafts/{draft_id}").json()["identity_checks"][0]["matched"] is False
    stale = system.post(f"/api/v1/drafts/{draft_id}/submit")
    assert stale.status_code == 422 and set(stale.json()["field_errors"]) == {"identity.owner"}
    assert system.put(url, {"document_kind": "cccd", "number": "001090054321"}).status_code == 200
    assert system.post(f"/api/v1/drafts/{draft_id}/submit").status_code == 201


# -- once, and only for whom it is ----------------------------------------------------------------------


def test_a_filed_draft_cannot_be_changed_and_its_repeat_answers_the_same_dossier(system, bank):
    draft_id = system.complete_draft()
    first = system.post(f"/api/v1/drafts/{draft_id}/submit").json()
    stale = system.patch(f"/api/v1/drafts/{draft_id}", {"owner": {"full_name": "Người Khác"}})
    assert stale.status_code == 409 and stale.json()["message"] == "Hồ sơ này đã được gửi; không sửa được bản nháp nữa"
    late_file = system.put_file(draft_id, CERTIFICATE, "a.pdf", a_pdf(1))
    assert late_file.status_code == 409
    assert reload_dossier(uuid.UUID(first["id"])).owner_full_name == OWNER["full_name"]
    assert [e.detail["step"] for e in _audit("dossier.draft_refused", draft_id)] == ["change", "document"]
    assert system.post(f"/api/v1/drafts/{draft_id}/submit").json()["id"] == first["id"]


def test_two_submits_racing_file_one_dossier(system, bank):
    draft_id = uuid.UUID(system.complete_draft())
    client, _ = bank["client"]
    with unit_of_work(Scope.network("test reads a client", actor_label="test")) as session:
        from agents.api_clients.models import ApiClient
        from agents.api_clients.service import actor_for_client
        from agents.staff.models import Account

        row = session.scalar(select(ApiClient).where(ApiClient.client_id == client.client_id))
        actor = actor_for_client(row, session.get(Account, row.owner_account_id))
    scope = Scope.partner(bank["a"].id, actor_id=actor.account_id, actor_label=actor.label)

    def first(hold):  # type: ignore[no-untyped-def]
        with unit_of_work(scope) as session:
            filed = drafts.submit_saved(session, actor, draft_id)
            hold()
            return filed.dossier.id, filed.created

    def second():  # type: ignore[no-untyped-def]
        with unit_of_work(scope) as session:
            filed = drafts.submit_saved(session, actor, draft_id)
            return filed.dossier.id, filed.created

    (won, created), (lost, again) = race(first, second)
    assert won == lost and created and not again
    assert _dossiers_with_key(bank["a"], str(draft_id)) == 1


def test_a_draft_of_another_point_or_partner_answers_like_a_missing_one(portal, bank, system):
    draft_id = system.complete_draft()
    neighbour = PartnerSystem(portal().http, bank["other_branch_client"])  # same partner, same accountable person
    stranger = PartnerSystem(portal().http, bank["client_b"])
    missing = str(uuid.uuid4())
    for caller in (neighbour, stranger):
        answers = [
            caller.get(f"/api/v1/drafts/{draft_id}"),
            caller.patch(f"/api/v1/drafts/{draft_id}", {"owner": {"full_name": "X"}}),
            caller.put_file(draft_id, CERTIFICATE, "a.pdf", a_pdf(1)),
            caller.put(
                f"/api/v1/drafts/{draft_id}/identity-check", {"document_kind": "cccd", "number": OWNER["id_number"]}
            ),
            caller.post(f"/api/v1/drafts/{draft_id}/submit"),
        ]
        assert [a.status_code for a in answers] == [404] * 5
        assert {a.json()["message"] for a in answers} == {caller.get(f"/api/v1/drafts/{missing}").json()["message"]}
    assert len(_audit("dossier.draft_refused", draft_id)) == 10
    assert _dossiers_with_key(bank["a"], draft_id) == 0
    assert len(_documents(bank["a"], draft_id)) == 2
    filed = system.post(f"/api/v1/drafts/{draft_id}/submit").json()
    assert stranger.get(f"/api/v1/dossiers/{filed['id']}/receipt.pdf").status_code == 404


def test_the_drafts_need_the_write_scope_and_the_receipt_the_read_scope(portal, bank, system):
    reader = PartnerSystem(portal().http, bank["readonly_client"])
    assert reader.post("/api/v1/drafts", {"procedure_code": BIRTH}).status_code == 403
    draft_id = system.complete_draft()
    assert reader.get(f"/api/v1/drafts/{draft_id}").status_code == 403
    writer = PartnerSystem(portal().http, bank["writeonly_client"])
    filed = writer.post(f"/api/v1/drafts/{draft_id}/submit")
    assert filed.status_code == 201
    assert writer.get(f"/api/v1/dossiers/{filed.json()['id']}/receipt.pdf").status_code == 403
    assert reader.get(f"/api/v1/dossiers/{filed.json()['id']}/receipt.pdf").status_code == 200
