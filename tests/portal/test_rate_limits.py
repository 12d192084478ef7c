"""/track, /login and /api/oauth/token are rate-limited by source and by target, across processes.

Over a budget: 429 with Retry-After; the refusal is audited once, repeats are counted.
The limits are the settings' defaults (rate_limits section); every test client is its own source.
"""

from litestar.testing import TestClient
from sqlalchemy import select

from portal.app import create_app
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.portal.conftest import FromAddress, PortalClient, next_address

LIMITS = get_settings().rate_limits


def _events(action):
    with read_only(Scope.network("test", actor_label="test")) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _track(client, code):
    return client.post_form("/track", {"code": code, "phone": "0912345678"})


def _assert_limited(response):
    assert response.status_code == 429, response.status_code
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= LIMITS.window_seconds


def test_one_source_gets_its_budget_of_tracking_guesses_then_429(portal):
    client = portal()
    for n in range(LIMITS.track_per_source):
        assert _track(client, f"HN-GUESS-{n:05d}").status_code == 404
    _assert_limited(_track(client, "HN-GUESS-LAST"))
    assert _track(portal(), "HN-GUESS-LAST").status_code == 404  # another source is not held back


def test_one_tracking_code_gets_its_budget_whatever_the_sources_then_429(portal):
    code = "HN-TARGET-00001"
    for _ in range(LIMITS.track_per_target):
        assert _track(portal(), code).status_code == 404
    _assert_limited(_track(portal(), code))


def test_the_api_tracking_is_limited_too_and_answers_json(portal):
    code = "HN-APITARGET-01"
    for _ in range(LIMITS.track_per_target):
        assert portal().post_json("/api/v1/track", {"tracking_code": code, "phone": "0912345678"}).status_code == 404
    limited = portal().post_json("/api/v1/track", {"tracking_code": code, "phone": "0912345678"})
    _assert_limited(limited)
    assert limited.json()["error"] == "rate_limited"


def test_two_processes_count_against_one_budget(portal):
    source = next_address()
    first = portal(source)
    second = PortalClient(TestClient(FromAddress(create_app(), source), base_url="http://testserver.local"))
    for n in range(LIMITS.track_per_source):
        assert _track(first if n % 2 else second, f"HN-SHARED-{n:05d}").status_code == 404
    _assert_limited(_track(first, "HN-SHARED-LAST"))
    _assert_limited(_track(second, "HN-SHARED-LAST"))


def test_sign_in_attempts_on_one_email_are_limited_whatever_the_sources(portal):
    email = "rate-limited-target@test.vn"
    for _ in range(LIMITS.login_per_target):
        assert portal().sign_in(email, "x").status_code == 401
    _assert_limited(portal().sign_in(email, "x"))


def test_token_requests_are_limited_by_client_id(portal):
    form = {"grant_type": "client_credentials", "client_id": "no-such-client", "client_secret": "x"}
    for _ in range(LIMITS.token_per_target):
        assert portal().http.post("/api/oauth/token", data=form).status_code == 401
    _assert_limited(portal().http.post("/api/oauth/token", data=form))


def test_repeated_429s_are_audited_once_and_counted(portal):
    client = portal()
    before = len(_events("security.rate_limited"))
    for n in range(LIMITS.track_per_source):
        _track(client, f"HN-TALLY-{n:05d}")
    for n in range(3):
        _assert_limited(_track(client, f"HN-TALLY-MORE-{n}"))  # a script guessing on: one entry
    assert len(_events("security.rate_limited")) == before + 1
