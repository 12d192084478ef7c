"""The demo seed: the real Hanoi partners and procedures, every role can sign in, idempotent."""

from sqlalchemy import func, select

from agents.dossiers.models import Dossier
from agents.partners.models import Partner
from agents.procedures.models import Procedure
from agents.seed import DEMO_PASSWORD, PARTNERS, seed_demo
from agents.staff.service import authenticate
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope


def _counts() -> tuple[int, int, int]:
    with unit_of_work(Scope.network("test", actor_label="t")) as session:
        codes = [p[0] for p in PARTNERS]
        partners = session.scalar(select(func.count()).select_from(Partner).where(Partner.code.in_(codes)))
        procedures = session.scalar(select(func.count()).select_from(Procedure))
        dossiers = session.scalar(
            select(func.count()).select_from(Dossier).where(Dossier.idempotency_key.like("demo-seed-%"))
        )
    return partners, procedures, dossiers


def test_seeding_twice_gives_the_same_network_and_every_demo_login_works():
    logins = seed_demo()
    first = _counts()
    assert seed_demo() == logins
    assert _counts() == first
    assert first[0] == 7 and first[1] >= 9 and first[2] == 14
    roles = {login.role for login in logins}
    assert roles == {"agent staff", "partner manager", "center admin", "auditor"}
    for login in logins:
        with unit_of_work(Scope.network("test sign-in", actor_label=login.email)) as session:
            assert authenticate(session, login.email, DEMO_PASSWORD).email == login.email
