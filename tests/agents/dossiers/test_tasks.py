"""The forwarding task, run the way a worker runs it: in the scope the filing enqueued it with."""

import subprocess
import sys

import pytest
from sqlalchemy import select

from agents.dossiers.forwarding import FORWARDER
from agents.dossiers.models import DossierState
from agents.dossiers.tasks import forward
from portal.core.audit import AuditEvent
from portal.core.celery_app import SCOPE_HEADER
from portal.core.db import read_only
from tests.factories import file_birth_registration, reload_dossier, setup_scope


@pytest.fixture
def city_up(city_simulator):
    city_simulator.reset_knobs()


def _forwarded_entry(dossier_id) -> AuditEvent:
    with read_only(setup_scope()) as session:
        return session.scalar(
            select(AuditEvent).where(AuditEvent.action == "dossier.forwarded", AuditEvent.object_id == str(dossier_id))
        )


def test_a_forward_is_on_the_record_as_the_filers_work_done_by_the_worker(counter, city_up):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    filed_in = staff.partner_scope(partner.id, origin="10.1.2.3")
    result = forward.apply(
        args=[str(dossier.id), str(partner.id)], headers={SCOPE_HEADER: filed_in.as_header()}, throw=True
    )
    assert result.get() == "forwarded"
    assert reload_dossier(dossier.id).state is DossierState.forwarded
    entry = _forwarded_entry(dossier.id)
    assert (entry.actor_id, entry.actor_label, entry.origin) == (
        staff.account_id,
        staff.label,
        "worker:dossiers.forward",
    )
    assert entry.partner_id == partner.id and entry.scope_reason is None


def test_a_message_without_a_scope_is_forwarded_as_the_workers_own_work(counter, city_up):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    assert forward.apply(args=[str(dossier.id), str(partner.id)], throw=True).get() == "forwarded"
    entry = _forwarded_entry(dossier.id)
    assert entry.actor_id is None and entry.actor_label == FORWARDER


def test_a_worker_that_imports_only_its_tasks_knows_every_table():
    """A flush orders its rows by foreign keys: the worker needs every mapper, not only the dossier's."""
    import agents.models  # noqa: F401
    import payments.models  # noqa: F401
    from portal.core.db import metadata

    probe = (
        "import importlib; from portal.core.celery_app import TASK_MODULES; "
        "[importlib.import_module(m) for m in TASK_MODULES]; "
        "from portal.core.db import metadata; print(' '.join(sorted(metadata.tables)))"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.split() == sorted(metadata.tables)
