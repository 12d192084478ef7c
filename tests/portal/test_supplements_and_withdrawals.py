"""After the counter: the city's request for more documents, the citizen's withdrawal, results and refusals.

The city simulator runs as its own process, moved by hand (/_sim); our side reads its reports by
polling (the same code as the callbacks). The API is called as the pages call it (session + CSRF).
"""

import uuid

import pytest
from sqlalchemy import select

from agents.city.client import CityClient
from agents.documents.models import DossierDocument
from agents.documents.rules import slot_code
from agents.dossiers import tasks
from agents.dossiers.models import CityRequest, CityRequestState, FollowUp
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from portal.scanner_daemon import EICAR
from tests.clamd import portal_clamd  # noqa: F401
from tests.documents import a_pdf
from tests.factories import (
    create_counter,
    create_person,
    file_birth_registration,
    reload_dossier,
    setup_scope,
    worker_scope,
)

DECLARATION = slot_code("Tờ khai đăng ký khai sinh")
CERTIFICATE = slot_code("Giấy chứng sinh")


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Bổ sung")


@pytest.fixture
def city(city_simulator):
    city_simulator.reset_knobs()
    client = CityClient()
    yield client
    client.close()
    city_simulator.reset_knobs()


def _at_city(counter, city, city_simulator, *statuses: int, **filing):
    """A dossier filed, forwarded, and moved by the city through `statuses` (forced), read back by a poll."""
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point, **filing)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    for status in statuses:
        city_simulator.http.post(
            f"/_sim/dossiers/{code}/status",
            json={"TrangThaiHoSo": status, "GhiChu": "Thiếu Giấy chứng sinh bản gốc" if status == 5 else ""},
        ).raise_for_status()
    tasks.sync_status_from_city(dossier.id, worker_scope(partner), city)
    return reload_dossier(dossier.id), code


def _signed_in(portal, person):
    client = portal()
    client.sign_in(person.email)
    return client


def _post_multipart(client, url, fields, files):
    return client.http.post(url, data=fields, files=files, headers={"x-csrftoken": client.csrf})


def _requests(dossier_id) -> list[CityRequest]:
    with read_only(setup_scope()) as session:
        rows = list(session.scalars(select(CityRequest).where(CityRequest.dossier_id == dossier_id)))
        session.expunge_all()
        return rows


def _audit(action, dossier_id) -> list[AuditEvent]:
    with read_only(setup_scope()) as session:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.object_id == str(dossier_id))
                .order_by(AuditEvent.seq)
            )
        )
        session.expunge_all()
        return rows


def test_a_status_5_dossier_goes_back_to_the_city_once_with_only_the_documents_asked_for(
    portal,
    counter,
    city,
    city_simulator,
    portal_clamd,  # noqa: F811
):
    partner, _point, staff = counter
    dossier, code = _at_city(counter, city, city_simulator, 2, 4, 5)
    assert dossier.city_status == 5
    client = _signed_in(portal, staff)
    waiting = client.get("/dossiers/follow-ups").text.split('data-testid="supplements-waiting"', 1)[1]
    assert dossier.tracking_code in waiting.split("</div>", 1)[0]  # reopened at the point that filed it
    page = client.get(f"/dossiers/{dossier.id}").text
    assert "Thiếu Giấy chứng sinh bản gốc" in page and 'data-testid="supplement-form"' in page

    url = f"/api/v1/dossiers/{dossier.id}/supplement"
    answer = _post_multipart(
        client, url, {"note": "Đã có bản gốc"}, [(CERTIFICATE, ("chung-sinh.pdf", a_pdf(2), "application/pdf"))]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["city_status"] == 5  # until the city says otherwise
    again = _post_multipart(client, url, {}, [(CERTIFICATE, ("x.pdf", a_pdf(), "application/pdf"))])
    assert again.status_code == 409 and again.json()["error"] == "conflict"

    [request] = _requests(dossier.id)
    assert (request.state, request.round, request.note) == (CityRequestState.pending, 1, "Đã có bản gốc")
    waiting = client.get("/dossiers/follow-ups").text.split('data-testid="supplements-waiting"', 1)[1]
    assert dossier.tracking_code not in waiting.split("</div>", 1)[0]  # answered: off the list
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None  # sent: nothing more
    [request] = _requests(dossier.id)
    assert request.state is CityRequestState.sent and request.attempts == 1
    [at_city] = [d for d in city_simulator.dossiers() if d["MaHoSo"] == code]
    assert at_city["TrangThaiHoSo"] == 4
    tasks.sync_status_from_city(dossier.id, worker_scope(partner), city)
    assert reload_dossier(dossier.id).city_status == 4

    with read_only(setup_scope()) as session:
        files = session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier.id)).all()
        assert [(f.slot, f.supplement_round, f.pages) for f in files] == [(CERTIFICATE, 1, 2)]
    page = client.get(f"/dossiers/{dossier.id}").text
    assert 'data-testid="supplement-diff"' in page and "chung-sinh.pdf" in page
    assert [e.detail["round"] for e in _audit("dossier.supplement_submitted", dossier.id)] == [1]


def test_a_supplement_the_city_already_took_is_not_sent_twice(counter, city, city_simulator, portal, portal_clamd):  # noqa: F811
    partner, _point, staff = counter
    dossier, code = _at_city(counter, city, city_simulator, 2, 4, 5)
    client = _signed_in(portal, staff)
    answer = _post_multipart(
        client, f"/api/v1/dossiers/{dossier.id}/supplement", {}, [(DECLARATION, ("a.pdf", a_pdf(), "application/pdf"))]
    )
    assert answer.status_code == 200, answer.text
    [request] = _requests(dossier.id)
    city.supplement(code, "first attempt, its answer lost on the way back")  # the city took it already
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None
    [request] = _requests(dossier.id)
    assert request.state is CityRequestState.sent
    assert _audit("dossier.supplement_sent", dossier.id)[0].detail["already_done"] is True


def test_a_supplement_is_refused_when_the_dossier_is_not_waiting_for_one(portal, counter, city, city_simulator):
    _partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4)
    client = _signed_in(portal, staff)
    answer = _post_multipart(
        client,
        f"/api/v1/dossiers/{dossier.id}/supplement",
        {"note": "x"},
        [(DECLARATION, ("a.pdf", b"%PDF-", "application/pdf"))],
    )
    assert answer.status_code == 409
    assert "không chờ bổ sung" in answer.json()["message"]
    assert _requests(dossier.id) == []
    assert _audit("dossier.supplement_refused", dossier.id)[0].detail["reason"] == "not_waiting_for_supplement"


def test_another_points_dossier_is_not_found_exactly_like_a_missing_one(portal, counter, city, city_simulator):
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 5)
    _other_partner, _other_point, stranger = create_counter("Bưu điện Khác")
    client = _signed_in(portal, stranger)
    files = [(DECLARATION, ("a.pdf", a_pdf(), "application/pdf"))]
    theirs = _post_multipart(client, f"/api/v1/dossiers/{dossier.id}/supplement", {}, files)
    missing = _post_multipart(client, f"/api/v1/dossiers/{uuid.uuid4()}/supplement", {}, files)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert _requests(dossier.id) == []
    assert [e.detail["reason"] for e in _audit("dossier.supplement_refused", dossier.id)] == ["not_found"]
    request = [("request", ("don.pdf", a_pdf(), "application/pdf"))]
    withdrawn = _post_multipart(client, f"/api/v1/dossiers/{dossier.id}/withdraw", {"reason": "x"}, request)
    assert withdrawn.status_code == 404 and withdrawn.json() == missing.json()
    assert [e.detail["reason"] for e in _audit("dossier.withdrawal_refused", dossier.id)] == ["not_found"]
    assert reload_dossier(dossier.id).city_status == 5


def test_a_refused_file_or_an_unknown_slot_keeps_nothing_and_names_the_field(
    portal,
    counter,
    city,
    city_simulator,
    portal_clamd,  # noqa: F811
):
    _partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 5)
    client = _signed_in(portal, staff)
    url = f"/api/v1/dossiers/{dossier.id}/supplement"
    infected = _post_multipart(
        client,
        url,
        {},
        [
            (DECLARATION, ("a.pdf", a_pdf(), "application/pdf")),
            (CERTIFICATE, ("virus.pdf", EICAR, "application/pdf")),
        ],
    )
    assert infected.status_code == 422, infected.text
    assert CERTIFICATE in infected.json()["field_errors"]
    unknown = _post_multipart(client, url, {}, [("passport", ("p.pdf", a_pdf(), "application/pdf"))])
    assert unknown.status_code == 422 and "passport" in unknown.json()["field_errors"]
    nothing = _post_multipart(client, url, {}, [("note", (None, "only words"))])  # multipart, no file
    assert nothing.status_code == 422 and "files" in nothing.json()["field_errors"]
    assert _requests(dossier.id) == []
    with read_only(setup_scope()) as session:
        assert session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier.id)).all() == []
    assert len(_audit("dossier.supplement_refused", dossier.id)) == 2
    assert reload_dossier(dossier.id).city_status == 5


def test_a_second_request_for_documents_flags_the_dossier_for_the_center_with_the_agency(
    portal, counter, city, city_simulator
):
    _partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 5, 4, 5)
    stored = reload_dossier(dossier.id)
    assert stored.supplement_breach is True
    assert _signed_in(portal, staff).get(f"/api/v1/dossiers/{dossier.id}").json()["supplement_breach"] is True
    assert [e.detail["requests"] for e in _audit("dossier.supplement_breach", dossier.id)] == [2]
    admin = create_person((Role.center_admin, None, None))
    page = _signed_in(portal, admin).get("/center/supplements")
    assert page.status_code == 200
    row = page.text.split(dossier.tracking_code, 1)[1].split("</tr>", 1)[0]
    assert "UBND" in row or "Ủy ban" in row or "Phòng" in row  # the procedure's agency (handled_by)
    assert _signed_in(portal, staff).get("/center/supplements").status_code == 403


def test_staff_mark_a_supplement_as_the_points_miss_and_it_counts_on_the_points_figures(
    portal, counter, city, city_simulator
):
    partner, point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 5)
    client = _signed_in(portal, staff)
    marked = client.post_form(f"/dossiers/{dossier.id}/supplement-cause", {})
    assert marked.status_code == 303
    assert reload_dossier(dossier.id).agent_caused_supplement_at is not None
    assert client.post_form(f"/dossiers/{dossier.id}/supplement-cause", {}).status_code == 409
    assert len(_audit("dossier.supplement_agent_caused", dossier.id)) == 1
    from agents.reporting.queries import figures_per_point
    from portal.core.tenancy import Scope
    from tests.factories import refresh_figures

    refresh_figures(point)  # what the worker does after each commit: the figures read the rollups
    with read_only(Scope.network("test: figures", actor_label="test")) as session:
        [mine] = [f for f in figures_per_point(session) if f.point_id == point.id]
    assert mine.agent_caused_supplements >= 1
    manager = create_person((Role.partner_manager, partner, None))
    assert 'data-testid="agent-caused"' in _signed_in(portal, manager).get("/partner/dashboard").text


def test_the_citizen_withdraws_with_a_signed_request_once_through_the_city(
    portal,
    counter,
    city,
    city_simulator,
    portal_clamd,  # noqa: F811
):
    partner, _point, staff = counter
    dossier, code = _at_city(counter, city, city_simulator, 2, 4)
    client = _signed_in(portal, staff)
    url = f"/api/v1/dossiers/{dossier.id}/withdraw"
    no_file = _post_multipart(client, url, {}, [("reason", (None, "Đổi ý"))])
    assert no_file.status_code == 422 and "request" in no_file.json()["field_errors"]
    answer = _post_multipart(
        client, url, {"reason": "Công dân chuyển nơi ở"}, [("request", ("don-rut.pdf", a_pdf(), "application/pdf"))]
    )
    assert answer.status_code == 200, answer.text
    assert (
        _post_multipart(
            client, url, {"reason": "again"}, [("request", ("don.pdf", a_pdf(), "application/pdf"))]
        ).status_code
        == 409
    )
    [request] = _requests(dossier.id)
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None
    [at_city] = [d for d in city_simulator.dossiers() if d["MaHoSo"] == code]
    assert at_city["TrangThaiHoSo"] == 7
    tasks.sync_status_from_city(dossier.id, worker_scope(partner), city)
    assert reload_dossier(dossier.id).city_status == 7
    with read_only(setup_scope()) as session:
        [signed] = session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier.id)).all()
        assert (signed.slot, signed.file_name) == ("withdrawal_request", "don-rut.pdf")
    assert len(_audit("dossier.withdrawal_requested", dossier.id)) == 1


def test_a_finished_dossier_cannot_be_withdrawn(portal, counter, city, city_simulator):
    _partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 9, 10)
    client = _signed_in(portal, staff)
    answer = _post_multipart(
        client,
        f"/api/v1/dossiers/{dossier.id}/withdraw",
        {"reason": "Muộn rồi"},
        [("request", ("don.pdf", a_pdf(), "application/pdf"))],
    )
    assert answer.status_code == 409
    assert "đã kết thúc" in answer.json()["message"]
    assert _requests(dossier.id) == []
    assert _audit("dossier.withdrawal_refused", dossier.id)[0].detail["reason"] == "not_withdrawable"


def test_result_ready_gives_the_point_a_task_marked_done_and_returned_closes_the_dossier(
    portal, counter, city, city_simulator
):
    partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 9)
    client = _signed_in(portal, staff)
    tasks_page = client.get("/dossiers/follow-ups").text
    assert dossier.tracking_code in tasks_page.split('data-testid="follow-ups-open"', 1)[1].split("</table>", 1)[0]
    with read_only(setup_scope()) as session:
        task = session.scalar(select(FollowUp).where(FollowUp.dossier_id == dossier.id))
    done = client.post_form(f"/follow-ups/{task.id}/done", {})
    assert done.status_code == 303
    assert client.post_form(f"/follow-ups/{task.id}/done", {}).status_code == 409
    assert len(_audit_of("follow_up.done", task.id)) == 1
    _other, _p, stranger = create_counter("Bưu điện Ngoài")
    assert _signed_in(portal, stranger).post_form(f"/follow-ups/{task.id}/done", {}).status_code == 404

    # Another dossier: its task still open when the city returns the result, which closes both.
    second, code2 = _at_city(counter, city, city_simulator, 2, 4, 9)
    city_simulator.set_status(code2, 10)
    tasks.sync_status_from_city(second.id, worker_scope(partner), city)
    with read_only(setup_scope()) as session:
        closed = session.scalar(select(FollowUp).where(FollowUp.dossier_id == second.id))
        assert closed.closed_reason == "returned" and closed.done_at is not None
    assert "Đã đóng" in client.get(f"/dossiers/{second.id}").text


def _audit_of(action, object_id) -> list[AuditEvent]:
    with read_only(setup_scope()) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
            )
        )


def test_the_citys_reason_for_a_refusal_is_shown_to_staff_and_in_plain_words_to_the_citizen(
    portal, counter, city, city_simulator
):
    partner, _point, staff = counter
    dossier = file_birth_registration(staff, _point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    city_simulator.http.post(
        f"/_sim/dossiers/{code}/status",
        json={"TrangThaiHoSo": 3, "GhiChu": "Hồ sơ không được tiếp nhận: thành phần hồ sơ không đầy đủ."},
    ).raise_for_status()
    tasks.sync_status_from_city(dossier.id, worker_scope(partner), city)
    staff_page = _signed_in(portal, staff).get(f"/dossiers/{dossier.id}").text
    assert 'data-testid="city-reason"' in staff_page and "thành phần hồ sơ không đầy đủ" in staff_page
    citizen = portal()
    tracked = citizen.post_form("/track", {"code": dossier.tracking_code, "phone": "0912345678"}).text
    reason = tracked.split('data-testid="city-reason"', 1)[1].split("</p>", 1)[0]
    assert "thành phần hồ sơ không đầy đủ" in reason and "Hồ sơ không được tiếp nhận:" not in reason


def _callback(client, payload: dict, secret: str, *, timestamp: int | None = None):
    import json
    import time

    from agents.city.callbacks import sign

    body = json.dumps(payload).encode()
    ts = str(timestamp or int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-city-timestamp": ts,
        "x-city-signature": sign(secret, ts, body),
        "x-city-event-id": payload["event_id"],
    }
    return client.http.post("/api/city/callbacks", content=body, headers=headers)


def test_forged_and_replayed_callbacks_are_refused_on_the_record_and_a_repeat_changes_nothing(
    portal, counter, city, city_simulator, settings
):
    import time

    dossier, code = _at_city(counter, city, city_simulator, 2, 4)
    client = portal()
    event = {
        "event_id": uuid.uuid4().hex,
        "seq": 4,
        "MaHoSo": code,
        "MaHoSoDoiTac": dossier.tracking_code,
        "TrangThaiHoSo": 5,
        "ThoiGian": "2026-12-02T10:00:00+07:00",
        "GhiChu": "Bổ sung giấy chứng sinh",
    }
    forged = _callback(client, event, "not the city's secret")
    replayed = _callback(client, event, settings.city.webhook_secret, timestamp=int(time.time()) - 3600)
    assert forged.status_code == replayed.status_code == 401
    assert reload_dossier(dossier.id).city_status == 4
    with read_only(setup_scope()) as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "city.callback_refused").order_by(AuditEvent.seq)
        ).all()
        reasons = [e.detail["reason"] for e in refused if e.detail.get("event_id") == event["event_id"]]
    assert reasons == ["callback signature does not match", "callback timestamp too old or in the future"]
    assert _callback(client, event, settings.city.webhook_secret).json() == {"result": "applied"}
    assert _callback(client, event, settings.city.webhook_secret).json() == {"result": "duplicate"}
    stored = reload_dossier(dossier.id)
    assert stored.city_status == 5
    assert len([e for e in stored.events if e.city_event_id == event["event_id"]]) == 1


def test_the_pages_forms_supplement_and_withdraw_and_say_why_when_refused(
    portal,
    counter,
    city,
    city_simulator,
    portal_clamd,  # noqa: F811
):
    _partner, _point, staff = counter
    dossier, _code = _at_city(counter, city, city_simulator, 2, 4, 5)
    client = _signed_in(portal, staff)
    citizen = portal()
    tracked = citizen.post_form("/track", {"code": dossier.tracking_code, "phone": "0912345678"}).text
    assert "Giấy chứng sinh bản gốc" in tracked.split('data-testid="to-bring"', 1)[1].split("</p>", 1)[0]

    url = f"/dossiers/{dossier.id}/supplement"
    refused = client.http.post(
        url,
        data={"_csrf_token": client.csrf, "note": "x"},
        files=[(CERTIFICATE, ("virus.pdf", EICAR, "application/pdf"))],
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert 'data-testid="supplement-error"' in refused.text and 'data-testid="supplement-form"' in refused.text
    sent = client.http.post(
        url,
        data={"_csrf_token": client.csrf, "note": "Bản gốc"},
        files=[(CERTIFICATE, ("goc.pdf", a_pdf(), "application/pdf")), (DECLARATION, ("", b"", "application/pdf"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:300]
    page = client.get(f"/dossiers/{dossier.id}").text
    assert 'data-testid="supplement-diff"' in page and 'data-testid="supplement-form"' not in page
    assert "goc.pdf" in page and "Tờ khai" not in page.split('data-testid="supplement-diff"', 1)[1].split("</table>")[0]

    withdraw = f"/dossiers/{dossier.id}/withdraw"
    no_reason = client.http.post(
        withdraw,
        data={"_csrf_token": client.csrf, "reason": ""},
        files=[("request", ("don.pdf", a_pdf(), "application/pdf"))],
        follow_redirects=False,
    )
    assert no_reason.status_code == 422 and 'data-testid="withdraw-error"' in no_reason.text
    done = client.http.post(
        withdraw,
        data={"_csrf_token": client.csrf, "reason": "Công dân đổi ý"},
        files=[("request", ("don.pdf", a_pdf(), "application/pdf"))],
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/dossiers/{dossier.id}").text
    assert "Công dân đổi ý" in page.split('data-testid="withdraw-state"', 1)[1].split("</p>", 1)[0]


def test_a_supplement_whose_worker_died_or_met_a_city_outage_is_sent_later_and_once(
    portal,
    counter,
    city,
    city_simulator,
    portal_clamd,  # noqa: F811
):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from agents.dossiers import city_requests
    from portal.core.db import unit_of_work
    from portal.core.tenancy import Scope

    partner, _point, staff = counter
    dossier, code = _at_city(counter, city, city_simulator, 2, 4, 5)
    client = _signed_in(portal, staff)
    answer = _post_multipart(
        client, f"/api/v1/dossiers/{dossier.id}/supplement", {}, [(CERTIFICATE, ("c.pdf", a_pdf(), "application/pdf"))]
    )
    assert answer.status_code == 200
    [request] = _requests(dossier.id)
    network = Scope.network("test: sweeper", actor_label="test")

    city_simulator.configure(down=True)  # the city is down: tried again later, nothing lost
    again = tasks.send_city_request(request.id, worker_scope(partner), city)
    assert again is not None and again > 0
    [request] = _requests(dossier.id)
    assert request.state is CityRequestState.pending and request.last_error
    city_simulator.configure(down=False)

    with unit_of_work(network) as session:  # time passes; then a worker takes it... and is killed
        session.execute(
            update(CityRequest).where(CityRequest.id == request.id).values(next_attempt_at=datetime.now(UTC))
        )
    with unit_of_work(worker_scope(partner)) as session:
        assert city_requests.claim(session, request.id) is not None
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None  # held by the lease
    with read_only(network) as session:
        assert (request.id, partner.id) not in city_requests.due_for_sending(session)
    with unit_of_work(network) as session:  # the lease runs out: the sweeper's to take back
        session.execute(
            update(CityRequest)
            .where(CityRequest.id == request.id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    with read_only(network) as session:
        assert (request.id, partner.id) in city_requests.due_for_sending(session)
    assert tasks.send_city_request(request.id, worker_scope(partner), city) is None
    [request] = _requests(dossier.id)
    assert request.state is CityRequestState.sent and request.attempts == 3
    history = city_simulator.http.get(f"/_sim/dossiers/{code}").json()["LichSu"]
    assert [e["TrangThaiHoSo"] for e in history] == [1, 2, 4, 5, 4], "the city took it once"
