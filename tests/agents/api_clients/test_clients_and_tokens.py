"""The rules of API clients and tokens, at the service level (agents.api_clients)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agents.api_clients import service as api_clients
from agents.api_clients import tokens
from agents.api_clients.models import ApiClient, ApiClientStatus, ApiToken
from agents.partners.models import Partner, PartnerStatus
from agents.staff.models import Account, AccountStatus, Role
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work, utcnow
from portal.core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    TenancyError,
    ValidationFailed,
)
from portal.core.tenancy import Scope
from tests.factories import (
    create_partner,
    create_person,
    create_point,
    create_staff,
    setup_scope,
)


@pytest.fixture
def world():
    a, b = create_partner(), create_partner()
    point_a, point_b = create_point(a), create_point(b)
    return {
        "a": a,
        "b": b,
        "point_a": point_a,
        "point_b": point_b,
        "manager": create_person((Role.partner_manager, a, None)),
        "manager_b": create_person((Role.partner_manager, b, None)),
        "staff": create_staff(point_a, a),
        "admin": create_person((Role.center_admin, None, None)),
    }


def _in_a(world, actor=None):
    actor = actor or world["manager"]
    if actor.is_center:
        return unit_of_work(Scope.partner(world["a"].id, actor_id=actor.account_id, actor_label=actor.label))
    return unit_of_work(actor.partner_scope(world["a"].id))


def _register(world, actor=None, **overrides):
    kwargs = {
        "name": "Core banking",
        "scopes": ["dossiers:write", "dossiers:read"],
        "agent_point_id": world["point_a"].id,
        **overrides,
    }
    actor = actor or world["manager"]
    with _in_a(world, actor) as session:
        return api_clients.register_client(session, actor, **kwargs)


def _lookup():
    return unit_of_work(Scope.network("test: token look-up", actor_label="test"))


def _token(client_id, secret, scopes=()):
    """Both halves of the client credentials grant, each in its own unit of work (as the endpoint does)."""
    with _lookup() as session:
        grant = tokens.authenticate_client(session, client_id, secret, list(scopes))
    with unit_of_work(grant.scope) as session:
        return tokens.issue_token(session, grant)


def _count(model) -> int:
    with unit_of_work(setup_scope()) as session:
        return session.scalar(select(func.count()).select_from(model))


def _audit(action: str, object_id) -> list[AuditEvent]:
    with unit_of_work(setup_scope()) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
            )
        )


def test_a_manager_registers_a_client_and_the_record_holds_no_secret(world):
    client, secret = _register(world)
    assert client.client_id.startswith("pc_") and client.partner_id == world["a"].id
    assert client.owner_account_id == world["manager"].account_id
    assert len(secret) >= 40 and client.secret_hash != secret
    [entry] = _audit("api_client.registered", client.id)
    assert secret not in str(entry.detail) and client.secret_hash not in str(entry.detail)
    assert entry.actor_id == world["manager"].account_id


def test_a_center_admin_may_register_for_a_partner(world):
    client, _ = _register(world, world["admin"])
    assert client.partner_id == world["a"].id


def test_staff_may_not_register_and_nothing_is_saved(world):
    before = _count(ApiClient)
    with pytest.raises(PermissionDenied):
        _register(world, world["staff"])
    assert _count(ApiClient) == before


def test_clients_are_managed_in_one_partners_scope(world):
    with unit_of_work(setup_scope()) as session, pytest.raises(TenancyError):
        api_clients.register_client(session, world["admin"], name="x", scopes=["procedures:read"], agent_point_id=None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["dossiers:delete"]}, "scopes"),
        ({"name": "  "}, "name"),
        ({"agent_point_id": None}, "agent_point_id"),  # dossier scopes need a point
    ],
)
def test_invalid_registrations_are_refused_with_the_field_named(world, overrides, field):
    with pytest.raises(ValidationFailed) as error:
        _register(world, **overrides)
    assert field in error.value.field_errors


def test_another_partners_point_is_refused(world):
    with pytest.raises(ValidationFailed) as error:
        _register(world, agent_point_id=world["point_b"].id)
    assert "agent_point_id" in error.value.field_errors


def test_a_catalogue_only_client_needs_no_point(world):
    client, _ = _register(world, scopes=["procedures:read"], agent_point_id=None)
    assert client.agent_point_id is None and client.scopes == ["procedures:read"]


def test_the_accountable_person_must_hold_a_role_at_the_partner(world):
    with pytest.raises(ValidationFailed) as error:
        _register(world, owner_account_id=world["manager_b"].account_id)
    assert "owner_account_id" in error.value.field_errors
    client, _ = _register(world, owner_account_id=world["staff"].account_id)
    assert client.owner_account_id == world["staff"].account_id


def test_a_token_stands_for_staff_at_the_clients_point_labelled_with_the_owner(world):
    client, secret = _register(world)
    token, expires_in, scopes = _token(client.client_id, secret)
    assert expires_in > 0 and set(scopes) == {"dossiers:write", "dossiers:read"}
    with _lookup() as session:
        actor, found, token_scopes = tokens.actor_for_token(session, token)
    assert found.id == client.id and token_scopes == frozenset(scopes)
    assert actor.account_id == world["manager"].account_id
    assert actor.point_ids(world["a"].id) == {world["point_a"].id}
    assert actor.roles_in(world["a"].id) == {Role.agent_staff}  # not the owner's manager role
    assert actor.label.startswith(f"API client Core banking ({client.client_id}) for ")
    assert world["manager"].email in actor.label
    tokens.require_scope(token_scopes, "dossiers:write")
    with pytest.raises(PermissionDenied):
        tokens.require_scope(token_scopes, "procedures:read")


def test_look_ups_need_an_explicit_network_scope(world):
    client, secret = _register(world)
    with _in_a(world) as session, pytest.raises(TenancyError):
        tokens.authenticate_client(session, client.client_id, secret, [])
    with _in_a(world) as session, pytest.raises(TenancyError):
        tokens.actor_for_token(session, "anything")


def test_revoking_needs_a_reason_and_ends_the_tokens(world):
    client, secret = _register(world)
    token = _token(client.client_id, secret).access_token
    with _in_a(world) as session, pytest.raises(ValidationFailed):
        api_clients.revoke_client(session, world["manager"], client.client_id, "  ")
    with _in_a(world) as session:
        assert session.get(ApiClient, client.id).status is ApiClientStatus.active
        api_clients.revoke_client(session, world["manager"], client.client_id, "Ngừng hợp tác")
    with unit_of_work(setup_scope()) as session:
        assert all(
            t.expires_at <= utcnow()
            for t in session.scalars(select(ApiToken).where(ApiToken.api_client_id == client.id))
        )
    with _lookup() as session, pytest.raises(AuthenticationFailed):
        tokens.actor_for_token(session, token)
    with _in_a(world) as session, pytest.raises(Conflict):
        api_clients.revoke_client(session, world["manager"], client.client_id, "lần nữa")
    [entry] = _audit("api_client.revoked", client.id)
    assert entry.detail["reason"] == "Ngừng hợp tác" and entry.detail["tokens_expired"] == 1


def test_another_partners_client_cannot_be_revoked(world):
    client, _ = _register(world)
    with unit_of_work(world["manager_b"].partner_scope(world["b"].id)) as session, pytest.raises(NotFound):
        api_clients.revoke_client(session, world["manager_b"], client.client_id, "không phải của tôi")


def test_a_suspended_partner_or_a_deactivated_owner_stops_the_client(world):
    client, secret = _register(world)
    token = _token(client.client_id, secret).access_token

    with unit_of_work(setup_scope()) as session:
        session.get(Partner, world["a"].id).status = PartnerStatus.suspended
        session.flush()
    with _lookup() as session, pytest.raises(tokens.InvalidClient):
        tokens.authenticate_client(session, client.client_id, secret, [])
    with _lookup() as session, pytest.raises(AuthenticationFailed):
        tokens.actor_for_token(session, token)
    assert [e.detail["reason"] for e in _audit("api_client.token_rejected", client.id)] == ["partner_suspended"]

    with unit_of_work(setup_scope()) as session:
        session.get(Partner, world["a"].id).status = PartnerStatus.active
        session.get(Account, world["manager"].account_id).status = AccountStatus.deactivated
        session.flush()
    with _lookup() as session, pytest.raises(AuthenticationFailed):
        tokens.actor_for_token(session, token)
    assert _audit("api_client.token_rejected", client.id)[-1].detail["reason"] == "owner_inactive"
