"""Partner systems on the JSON API: OAuth2 client credentials, bearer tokens, scopes, expiry, revocation.

A bank's branch software gets a token with its client id and secret, files a
dossier at its branch and reads it back; forged, expired and revoked tokens
are refused with an audit entry; the secret and the tokens are stored hashed.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agents.api_clients import service as api_clients
from agents.api_clients.models import ApiClient, ApiClientStatus, ApiToken
from agents.dossiers.models import Dossier
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work, utcnow
from portal.core.tenancy import Scope
from tests.factories import (
    BIRTH_FORM,
    citizen,
    create_partner,
    create_person,
    create_point,
    create_staff,
    ensure_procedures,
    file_birth_registration,
    reload_dossier,
)

TOKEN_URL = "/api/oauth/token"


@pytest.fixture(scope="module")
def bank():
    """Partner A (a bank) with a manager and a branch; partner B with a dossier of its own."""
    ensure_procedures()
    a = create_partner(name="Ngân hàng A")
    branch = create_point(a, name="Chi nhánh Hoàn Kiếm")
    other_branch = create_point(a, name="Chi nhánh Ba Đình")
    manager = create_person((Role.partner_manager, a, None), name="Trần Quản Lý")
    b = create_partner(name="Đối tác B")
    point_b = create_point(b)
    staff_b = create_staff(point_b, b)
    return {
        "a": a,
        "branch": branch,
        "other_branch": other_branch,
        "manager": manager,
        "b": b,
        "point_b": point_b,
        "dossier_b": file_birth_registration(staff_b, point_b),
        "dossier_other_branch": file_birth_registration(create_staff(other_branch, a), other_branch),
    }


def _register(bank, *, scopes=("dossiers:write", "dossiers:read"), name="Phần mềm chi nhánh Hoàn Kiếm"):
    manager = bank["manager"]
    with unit_of_work(manager.partner_scope(bank["a"].id)) as session:
        return api_clients.register_client(
            session, manager, name=name, scopes=list(scopes), agent_point_id=bank["branch"].id
        )


def _token(http, client_id: str, secret: str, **form: str):
    return http.post(TOKEN_URL, data={"grant_type": "client_credentials", **form}, auth=(client_id, secret))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _filing(point_id, **overrides):
    body = {
        "procedure_code": "1.001193",
        "agent_point_id": str(point_id),
        "idempotency_key": uuid.uuid4().hex,
        "citizen": citizen(),
        "form": dict(BIRTH_FORM),
    }
    body.update(overrides)
    return body


def _audit(action: str, **detail) -> list[AuditEvent]:
    with unit_of_work(Scope.network("test reads the audit log", actor_label="test")) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [e for e in rows if all(e.detail.get(k) == v for k, v in detail.items())]


def _count(model, **where) -> int:
    with unit_of_work(Scope.network("test counts rows", actor_label="test")) as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


def _client_row(client_id: str) -> ApiClient:
    with unit_of_work(Scope.network("test reads a client", actor_label="test")) as session:
        row = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        assert row is not None
        return row


# -- the happy path -------------------------------------------------------------------


def test_a_bank_files_at_its_branch_with_a_bearer_token_and_reads_it_back(portal, bank):
    client, secret = _register(bank)
    http = portal().http  # a fresh client: no session cookie, no CSRF cookie

    response = _token(http, client.client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {"dossiers:write", "dossiers:read"}
    token = body["access_token"]
    assert _audit("api_client.token_issued", client_id=client.client_id)

    filed = http.post("/api/v1/dossiers", json=_filing(bank["branch"].id), headers=_bearer(token))
    assert filed.status_code == 201, filed.text
    dossier_id = uuid.UUID(filed.json()["id"])
    assert filed.json()["agent_point_id"] == str(bank["branch"].id)

    stored = reload_dossier(dossier_id)
    assert stored.partner_id == bank["a"].id and stored.agent_point_id == bank["branch"].id
    assert stored.staff_account_id == bank["manager"].account_id  # the accountable person
    [entry] = [e for e in _audit("dossier.filed") if e.object_id == str(dossier_id)]
    assert client.client_id in entry.actor_label and client.name in entry.actor_label
    assert bank["manager"].full_name in entry.actor_label and bank["manager"].email in entry.actor_label
    assert entry.actor_id == bank["manager"].account_id and entry.partner_id == bank["a"].id

    listed = http.get("/api/v1/dossiers", headers=_bearer(token))
    assert listed.status_code == 200
    ids = {item["id"] for item in listed.json()}
    assert str(dossier_id) in ids
    # The client sees what its branch filed, not the partner's other branch nor another partner.
    assert str(bank["dossier_other_branch"].id) not in ids and str(bank["dossier_b"].id) not in ids

    read = http.get(f"/api/v1/dossiers/{dossier_id}", headers=_bearer(token))
    assert read.status_code == 200 and read.json()["tracking_code"] == stored.tracking_code


def test_a_client_files_at_the_point_it_is_bound_to_without_naming_it(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    token = _token(http, client.client_id, secret).json()["access_token"]
    body = _filing(bank["branch"].id)
    del body["agent_point_id"]  # the id appears nowhere in the portal's pages: the client's binding says it
    filed = http.post("/api/v1/dossiers", json=body, headers=_bearer(token))
    assert filed.status_code == 201, filed.text
    assert filed.json()["agent_point_id"] == str(bank["branch"].id)
    assert reload_dossier(uuid.UUID(filed.json()["id"])).agent_point_id == bank["branch"].id
    foreign = http.post("/api/v1/dossiers", json=_filing(bank["other_branch"].id), headers=_bearer(token))
    assert foreign.status_code == 403  # naming another point of its partner is still refused


def test_a_person_working_at_several_points_must_name_one(portal, bank):
    person = create_person(
        (Role.agent_staff, bank["a"], bank["branch"]), (Role.point_lead, bank["a"], bank["other_branch"])
    )
    client = portal()
    client.sign_in(person.email)
    body = _filing(bank["branch"].id)
    del body["agent_point_id"]
    ambiguous = client.post_json("/api/v1/dossiers", body)
    assert ambiguous.status_code == 422
    assert ambiguous.json()["field_errors"] == {
        "agent_point_id": "Bắt buộc chọn một điểm (bạn được phân công tại nhiều điểm)"
    }
    named = client.post_json("/api/v1/dossiers", {**body, "agent_point_id": str(bank["other_branch"].id)})
    assert named.status_code == 201 and named.json()["agent_point_id"] == str(bank["other_branch"].id)


def test_a_person_at_one_point_files_there_and_a_manager_without_one_is_refused(portal, bank):
    staff = create_staff(bank["branch"], bank["a"])
    client = portal()
    client.sign_in(staff.email)
    body = _filing(bank["branch"].id)
    del body["agent_point_id"]
    assert client.post_json("/api/v1/dossiers", body).json()["agent_point_id"] == str(bank["branch"].id)
    boss = portal()
    boss.sign_in(bank["manager"].email)
    refused = boss.post_json("/api/v1/dossiers", {**body, "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 403


def test_client_secret_post_and_a_narrower_scope_are_honoured(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    response = http.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
            "scope": "dossiers:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "dossiers:read"
    token = response.json()["access_token"]

    assert http.get("/api/v1/dossiers", headers=_bearer(token)).status_code == 200
    before = _count(Dossier, agent_point_id=bank["branch"].id)
    refused = http.post("/api/v1/dossiers", json=_filing(bank["branch"].id), headers=_bearer(token))
    assert refused.status_code == 403
    assert "dossiers:write" in refused.json()["message"]
    assert _count(Dossier, agent_point_id=bank["branch"].id) == before


def test_a_client_without_the_read_scope_cannot_read(portal, bank):
    client, secret = _register(bank, scopes=("dossiers:write",))
    http = portal().http
    token = _token(http, client.client_id, secret).json()["access_token"]
    assert http.get("/api/v1/dossiers", headers=_bearer(token)).status_code == 403
    assert http.get(f"/api/v1/dossiers/{bank['dossier_b'].id}", headers=_bearer(token)).status_code == 403


def test_another_partners_dossier_is_not_found_and_cannot_be_filed_into(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    token = _token(http, client.client_id, secret).json()["access_token"]
    response = http.get(f"/api/v1/dossiers/{bank['dossier_b'].id}", headers=_bearer(token))
    assert response.status_code == 404
    missing = http.get(f"/api/v1/dossiers/{uuid.uuid4()}", headers=_bearer(token))
    assert missing.status_code == 404 and missing.json() == response.json()  # same answer as "does not exist"

    before = _count(Dossier, agent_point_id=bank["point_b"].id)
    assert http.post("/api/v1/dossiers", json=_filing(bank["point_b"].id), headers=_bearer(token)).status_code == 404
    assert (
        http.post("/api/v1/dossiers", json=_filing(bank["other_branch"].id), headers=_bearer(token)).status_code == 403
    )
    assert _count(Dossier, agent_point_id=bank["point_b"].id) == before


# -- refusals at the token endpoint ---------------------------------------------------


def test_a_wrong_secret_is_refused_as_invalid_client_with_an_audit_entry(portal, bank):
    client, _ = _register(bank)
    tokens_before = _count(ApiToken)
    response = _token(portal().http, client.client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client" and response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["www-authenticate"].startswith("Basic")
    [entry] = _audit("api_client.token_refused", client_id=client.client_id)
    assert entry.detail["reason"] == "wrong_secret" and entry.partner_id == bank["a"].id
    assert "not-the-secret" not in str(entry.detail)
    assert _count(ApiToken) == tokens_before


def test_an_unknown_client_is_refused_the_same_way(portal):
    response = portal().http.post(
        TOKEN_URL, data={"grant_type": "client_credentials", "client_id": "pc_nobody", "client_secret": "x"}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "www-authenticate" not in response.headers  # client_secret_post: no Basic challenge
    assert _audit("api_client.token_refused", client_id="pc_nobody", reason="unknown_client")


def test_a_scope_the_client_was_not_granted_is_refused(portal, bank):
    client, secret = _register(bank, scopes=("dossiers:read",))
    response = _token(portal().http, client.client_id, secret, scope="dossiers:read dossiers:write")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert _audit("api_client.token_refused", client_id=client.client_id, reason="scope_not_granted")


def test_only_the_client_credentials_grant_is_supported(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    response = http.post(TOKEN_URL, data={"grant_type": "password"}, auth=(client.client_id, secret))
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    response = http.post(TOKEN_URL, data={}, auth=(client.client_id, secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    as_json = http.post(TOKEN_URL, json={"grant_type": "client_credentials"}, auth=(client.client_id, secret))
    assert as_json.status_code == 400 and "x-www-form-urlencoded" in as_json.json()["error_description"]
    both = http.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret},
        auth=(client.client_id, secret),
    )
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"


# -- refusals of bearer tokens ------------------------------------------------------------


def test_a_forged_token_is_refused_with_an_audit_entry(portal, bank):
    http = portal().http
    before = len(_audit("api_client.token_rejected", reason="unknown_token"))
    response = http.post("/api/v1/dossiers", json=_filing(bank["branch"].id), headers=_bearer("forged-" + "x" * 30))
    assert response.status_code == 401 and response.json()["error"] == "unauthenticated"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert http.get("/api/v1/dossiers", headers=_bearer("forged")).status_code == 401
    assert len(_audit("api_client.token_rejected", reason="unknown_token")) == before + 2


def test_a_bad_token_is_not_rescued_by_a_signed_in_session(portal, bank):
    staff = create_staff(bank["branch"], bank["a"])
    client = portal()
    client.sign_in(staff.email)
    assert client.get("/api/v1/dossiers").status_code == 200  # the session alone works
    response = client.get("/api/v1/dossiers", headers=_bearer("forged"))
    assert response.status_code == 401


def test_an_expired_token_is_refused_with_an_audit_entry(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    token = _token(http, client.client_id, secret).json()["access_token"]
    assert http.get("/api/v1/dossiers", headers=_bearer(token)).status_code == 200
    with unit_of_work(Scope.network("test ages a token", actor_label="test")) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.flush()
    response = http.get("/api/v1/dossiers", headers=_bearer(token))
    assert response.status_code == 401
    assert "hết hạn" in response.json()["message"]
    assert _audit("api_client.token_rejected", client_id=client.client_id, reason="expired")


def test_tokens_expire_after_the_configured_lifetime(portal, bank, settings):
    client, secret = _register(bank)
    before = utcnow()
    token = _token(portal().http, client.client_id, secret).json()["access_token"]
    with unit_of_work(Scope.network("test reads a token", actor_label="test")) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    lifetime = timedelta(seconds=settings.api_clients.token_ttl_seconds)
    assert before + lifetime - timedelta(seconds=5) <= row.expires_at <= utcnow() + lifetime


def test_a_revoked_client_gets_no_token_and_its_tokens_stop_working(portal, bank):
    client, secret = _register(bank)
    http = portal().http
    token = _token(http, client.client_id, secret).json()["access_token"]
    assert http.get("/api/v1/dossiers", headers=_bearer(token)).status_code == 200

    manager = bank["manager"]
    with unit_of_work(manager.partner_scope(bank["a"].id)) as session:
        api_clients.revoke_client(session, manager, client.client_id, "Khóa bí mật bị lộ")
    [revoked] = _audit("api_client.revoked", client_id=client.client_id)
    assert revoked.detail["reason"] == "Khóa bí mật bị lộ" and manager.email in revoked.actor_label
    after_revocation = _client_row(client.client_id)
    tokens = _count(ApiToken, api_client_id=client.id)
    dossiers = _count(Dossier, agent_point_id=bank["branch"].id)

    refused = _token(http, client.client_id, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "thu hồi" in refused.json()["error_description"]
    assert _audit("api_client.token_refused", client_id=client.client_id, reason="client_revoked")

    response = http.post("/api/v1/dossiers", json=_filing(bank["branch"].id), headers=_bearer(token))
    assert response.status_code == 401 and "thu hồi" in response.json()["message"]
    assert _audit("api_client.token_rejected", client_id=client.client_id, reason="client_revoked")

    # Nothing else changed: the client row, its tokens, the dossiers.
    row = _client_row(client.client_id)
    assert row.status is ApiClientStatus.revoked and row.status_reason == "Khóa bí mật bị lộ"
    assert (row.updated_at, row.last_used_at) == (after_revocation.updated_at, after_revocation.last_used_at)
    assert _count(ApiToken, api_client_id=client.id) == tokens
    assert _count(Dossier, agent_point_id=bank["branch"].id) == dossiers


# -- storage ------------------------------------------------------------------------------


def test_the_secret_and_the_tokens_are_not_stored_in_plain_text(portal, bank):
    client, secret = _register(bank)
    token = _token(portal().http, client.client_id, secret).json()["access_token"]
    row = _client_row(client.client_id)
    assert secret not in row.secret_hash and row.secret_hash.startswith("$argon2")
    with unit_of_work(Scope.network("test reads tokens", actor_label="test")) as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.api_client_id == client.id)).all()
    assert [t.token_hash for t in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    for action in ("api_client.registered", "api_client.token_issued"):
        for entry in _audit(action, client_id=client.client_id):
            assert secret not in str(entry.detail) and token not in str(entry.detail)


# -- CSRF: bearer requests need none, cookie requests still do -----------------------------


def test_a_signed_in_person_still_needs_the_csrf_token_on_the_api(portal, bank):
    staff = create_staff(bank["branch"], bank["a"])
    client = portal()
    client.sign_in(staff.email)
    before = _count(Dossier, agent_point_id=bank["branch"].id)
    refused = client.http.post("/api/v1/dossiers", json=_filing(bank["branch"].id))
    assert refused.status_code == 403
    basic = client.http.post("/api/v1/dossiers", json=_filing(bank["branch"].id), auth=("someone", "something"))
    assert basic.status_code == 403  # only a bearer header lifts the CSRF check
    assert _count(Dossier, agent_point_id=bank["branch"].id) == before
    filed = client.post_json("/api/v1/dossiers", _filing(bank["branch"].id))
    assert filed.status_code == 201, filed.text
    assert reload_dossier(uuid.UUID(filed.json()["id"])).staff_account_id == staff.account_id


def test_no_credentials_at_all_is_unauthenticated(portal):
    assert portal().http.get("/api/v1/dossiers").status_code == 401


# -- the manager's page -----------------------------------------------------------------------


def test_a_manager_registers_a_client_on_the_page_sees_the_secret_once_and_revokes_it(portal, bank):
    client = portal()
    client.sign_in(bank["manager"].email)
    page = client.post_form(
        "/partner/api-clients",
        {
            "name": "Core banking",
            "agent_point_id": str(bank["branch"].id),
            "scopes": ["dossiers:write", "dossiers:read"],
        },
    )
    assert page.status_code == 200, page.text
    client_id = re.search(r'data-testid="client-id">([^<]+)<', page.text).group(1)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', page.text).group(1)
    assert page.headers["cache-control"] == "no-store"
    assert _token(portal().http, client_id, secret).status_code == 200

    listing = client.get("/partner/api-clients")
    assert client_id in listing.text and secret not in listing.text  # shown once

    incomplete = client.post_form(f"/partner/api-clients/{client_id}/revoke", {"reason": " "})
    assert incomplete.status_code == 422 and _client_row(client_id).status is ApiClientStatus.active
    done = client.post_form(f"/partner/api-clients/{client_id}/revoke", {"reason": "Ngừng sử dụng"})
    assert done.status_code == 303
    assert _client_row(client_id).status is ApiClientStatus.revoked


def test_staff_cannot_manage_api_clients(portal, bank):
    staff = create_staff(bank["branch"], bank["a"])
    client = portal()
    client.sign_in(staff.email)
    assert client.get("/partner/api-clients").status_code == 403
    before = _count(ApiClient)
    response = client.post_form(
        "/partner/api-clients", {"name": "x", "agent_point_id": str(bank["branch"].id), "scopes": "dossiers:read"}
    )
    assert response.status_code == 403 and _count(ApiClient) == before
