"""Tenant scoping is a property of the data layer: it fails closed and holds without the ORM."""

import subprocess
import sys

import pytest
from sqlalchemy import select, text

from agents.dossiers.models import Dossier
from agents.points.models import AgentPoint
from agents.procedures.models import Procedure
from portal.core.db import get_engine, unit_of_work
from portal.core.errors import TenancyError
from portal.core.tenancy import Scope
from tests.factories import create_partner, create_point, create_staff, file_birth_registration


@pytest.fixture(scope="module")
def two_partners():
    a, b = create_partner(), create_partner()
    point_a, point_b = create_point(a), create_point(b)
    staff_a, staff_b = create_staff(point_a, a), create_staff(point_b, b)
    dossier_a = file_birth_registration(staff_a, point_a)
    dossier_b = file_birth_registration(staff_b, point_b)
    return {"a": a, "b": b, "point_a": point_a, "point_b": point_b, "dossier_a": dossier_a, "dossier_b": dossier_b}


def test_a_session_without_a_declared_scope_refuses_to_query():
    from portal.core.db import _session_factory

    session = _session_factory()()
    try:
        with pytest.raises(TenancyError):
            session.scalars(select(Procedure)).all()
    finally:
        session.close()


def test_a_partner_scope_sees_only_its_own_rows(two_partners):
    with unit_of_work(Scope.partner(two_partners["a"].id, actor_label="t")) as session:
        points = session.scalars(select(AgentPoint)).all()
        dossiers = session.scalars(select(Dossier)).all()
    assert {p.partner_id for p in points} == {two_partners["a"].id}
    assert {d.id for d in dossiers} == {two_partners["dossier_a"].id}


def test_another_partners_row_is_invisible_even_by_primary_key(two_partners):
    with unit_of_work(Scope.partner(two_partners["a"].id, actor_label="t")) as session:
        assert session.get(Dossier, two_partners["dossier_b"].id) is None


def test_writing_into_another_partner_from_a_partner_scope_is_refused(two_partners):
    with pytest.raises(TenancyError), unit_of_work(Scope.partner(two_partners["a"].id, actor_label="t")) as session:
        session.add(
            AgentPoint(
                partner_id=two_partners["b"].id, code="X", name="X", address="X", ward="X", latitude=0, longitude=0
            )
        )
        session.flush()


def test_a_network_scope_must_say_why():
    with pytest.raises(TenancyError):
        Scope.network("")


def test_a_network_scope_sees_every_partner(two_partners):
    with unit_of_work(Scope.network("test: center view", actor_label="t")) as session:
        ids = set(session.scalars(select(Dossier.id)))
    assert {two_partners["dossier_a"].id, two_partners["dossier_b"].id} <= ids


def test_row_level_security_stops_sql_that_bypasses_the_orm_filter(two_partners, is_postgres):
    if not is_postgres:
        pytest.skip("row-level security is PostgreSQL's; the PostgreSQL run of the suite covers it")
    with unit_of_work(Scope.partner(two_partners["a"].id, actor_label="t")) as session:
        # Raw SQL: no ORM criteria are added, only the database policy stands.
        partner_ids = set(session.execute(text("SELECT partner_id FROM dossiers")).scalars())
        assert partner_ids == {two_partners["a"].id}
        with pytest.raises(Exception, match="row-level security"):
            session.execute(
                text(
                    "INSERT INTO ratings (id, partner_id, dossier_id, agent_point_id, stars, comment, created_at, "
                    "updated_at) VALUES (gen_random_uuid(), :p, :d, :pt, 5, '', now(), now())"
                ),
                {"p": two_partners["b"].id, "d": two_partners["dossier_b"].id, "pt": two_partners["point_b"].id},
            )
    # And with no scope set at all, a plain connection of the app role sees nothing.
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dossiers")).scalar() == 0


def test_the_application_role_is_not_a_superuser_and_cannot_bypass_rls(is_postgres):
    if not is_postgres:
        pytest.skip("PostgreSQL roles only")
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert row == (False, False)


def test_the_tenant_key_is_a_uuid_even_where_the_partner_model_is_never_imported():
    """A worker that imports only what it needs must read partner ids as UUIDs: its writes are
    checked against its scope, and a string would never match (the forwarding task failed so)."""
    probe = (
        "import sys, agents.dossiers.models as m; "
        "assert 'agents.partners.models' not in sys.modules; "
        "print(type(m.Dossier.__table__.c.partner_id.type).__name__)"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "Uuid"
