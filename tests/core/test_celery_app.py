"""Tasks run in the scope they were enqueued with: the scope travels in the message's headers."""

import uuid

import pytest
from celery import Celery

from portal.core.celery_app import SCOPE_HEADER, ScopedTask
from portal.core.errors import TenancyError
from portal.core.tenancy import Scope

app = Celery("test-scoped-tasks", set_as_current=False, task_cls=ScopedTask)


@app.task(name="test.where_am_i", bind=True)
def where_am_i(self, partner_id: str | None = None) -> Scope:  # type: ignore[no-untyped-def]
    return self.work_scope(uuid.UUID(partner_id) if partner_id else None, label="worker: test")


def _run(*args: str, scope: Scope | None = None) -> Scope:
    headers = {SCOPE_HEADER: scope.as_header()} if scope is not None else None
    return where_am_i.apply(args=args, headers=headers, throw=True).get()


def test_a_partner_scope_is_re_entered_with_who_asked_and_where_it_now_runs():
    partner, person = uuid.uuid4(), uuid.uuid4()
    asked = Scope.partner(partner, actor_id=person, actor_label="Lan <lan@vnpost.vn>", origin="10.0.0.7")
    again = _run(str(partner), scope=asked)
    assert (again.partner_id, again.all_partners, again.actor_id, again.actor_label) == (
        partner,
        False,
        person,
        "Lan <lan@vnpost.vn>",
    )
    assert again.origin == "worker:test.where_am_i"


def test_a_network_scope_keeps_its_reason():
    asked = Scope.network("center re-sends every stuck dossier", actor_label="Trung <admin@trungtam.vn>")
    again = _run(scope=asked)
    assert again.all_partners and again.reason == "center re-sends every stuck dossier"
    assert again.actor_label == "Trung <admin@trungtam.vn>"


def test_without_a_scope_the_task_works_for_the_partner_it_names_under_its_own_label():
    partner = uuid.uuid4()
    again = _run(str(partner))
    assert again.partner_id == partner and again.actor_id is None and again.actor_label == "worker: test"


def test_a_scope_of_another_partner_than_the_task_names_is_refused():
    with pytest.raises(TenancyError):
        _run(str(uuid.uuid4()), scope=Scope.partner(uuid.uuid4(), actor_label="x"))
    with pytest.raises(TenancyError):
        _run(str(uuid.uuid4()), scope=Scope.network("why", actor_label="x"))
    with pytest.raises(TenancyError):
        _run()  # neither a scope nor a partner
