"""Every answer names its request id; a filing's id goes on with the task that forwards the dossier."""

import json
import re
import uuid

import pytest

from tests.factories import BIRTH_FORM, citizen, create_counter

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def counter():
    return create_counter()


def test_a_sane_incoming_request_id_is_echoed(portal):
    response = portal().get("/login", headers={"X-Request-ID": "lb-7f3a.42:1"})
    assert response.headers["x-request-id"] == "lb-7f3a.42:1"


@pytest.mark.parametrize("given", ["two words", "x" * 129, "ngày-mới".encode(), "a;b=<c>"])
def test_an_unsafe_request_id_is_replaced_by_one_of_ours(portal, given):
    answered = portal().get("/login", headers={"X-Request-ID": given}).headers["x-request-id"]
    assert GENERATED.fullmatch(answered)


def test_every_answer_has_a_request_id_errors_and_unknown_addresses_included(portal, counter):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    ids = [
        client.get("/login").headers["x-request-id"],
        client.get(f"/dossiers/{uuid.uuid4()}", headers={"X-Request-ID": "missing-dossier-1"}).headers["x-request-id"],
        client.get("/no/such/page", headers={"X-Request-ID": "no-such-page-1"}).headers["x-request-id"],
    ]
    assert GENERATED.fullmatch(ids[0])
    assert ids[1:] == ["missing-dossier-1", "no-such-page-1"]


def test_the_forwarding_task_of_a_filed_dossier_is_sent_with_the_filings_request_id(portal, counter, settings):
    _, _, staff = counter
    client = portal()
    client.sign_in(staff.email)
    data = {
        **client.form_defaults("/dossiers/new/1.001193"),
        **citizen(),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
    }
    request_id = f"filing-{uuid.uuid4().hex[:12]}"
    response = client.post_form("/dossiers/new/1.001193", data, headers={"X-Request-ID": request_id})
    assert response.status_code == 303 and response.headers["x-request-id"] == request_id
    dossier_id = response.headers["location"].split("/")[2]

    # Nothing consumes this test process's broker folder: the message is there to read.
    messages = [json.loads(p.read_bytes()) for p in (settings.broker.folder / "queue").glob("*.city.msg")]
    (sent,) = [m for m in messages if m["headers"].get("request_id") == request_id]
    assert sent["headers"]["task"] == "dossiers.forward"
    assert dossier_id in sent["headers"]["argsrepr"]
