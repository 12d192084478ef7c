"""Every absolute link comes from PORTAL_PUBLIC_URL, whatever Host the request names; production refuses other hosts."""

import re

from litestar import Litestar, get
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from agents.staff.models import Role
from portal.core.settings import get_settings
from portal.exceptions import EXCEPTION_HANDLERS
from portal.security.hosts import HostGuardMiddleware
from tests.factories import create_counter, create_partner, create_person, create_point, file_birth_registration

EVIL = {"host": "evil.example"}


def test_an_invitation_link_is_built_from_the_public_url_not_the_host_header(portal):
    partner = create_partner()
    create_point(partner)
    client = portal()
    client.sign_in(create_person((Role.partner_manager, partner, None)).email)
    page = client.post_form(
        "/partner/staff/invite",
        {"full_name": "Người Mới", "email": "host-test@test.vn", "role": "partner_manager", "agent_point_id": ""},
        headers=EVIL,
    )
    link = re.search(r"<code>([^<]+)</code>", page.text).group(1)
    assert link.startswith(get_settings().web.public_url.rstrip("/") + "/invitations/")
    assert "evil.example" not in page.text


def test_the_receipt_shows_the_public_tracking_address_whatever_the_host(portal):
    _partner, point, staff = create_counter()
    dossier = file_birth_registration(staff, point)
    client = portal()
    client.sign_in(staff.email)
    receipt = client.get(f"/dossiers/{dossier.id}/receipt", headers=EVIL)
    assert receipt.status_code == 200
    assert f"{get_settings().web.public_url.rstrip('/')}/track" in receipt.text
    assert "evil.example" not in receipt.text


@get("/api/hello", sync_to_thread=False)
def hello() -> str:
    return "hello"


@get("/healthz", sync_to_thread=False)
def healthz() -> str:
    return "ok"


def _guarded(enforce: bool) -> TestClient:
    app = Litestar(
        [hello, healthz],
        middleware=[DefineMiddleware(HostGuardMiddleware, public_url="https://portal.example.vn", enforce=enforce)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    return TestClient(app, base_url="https://portal.example.vn")


def test_in_production_a_request_for_another_host_is_refused_with_400():
    client = _guarded(enforce=True)
    assert client.get("/api/hello").status_code == 200
    assert client.get("/api/hello", headers={"host": "PORTAL.example.vn:443"}).status_code == 200
    for host in ("evil.example", "portal.example.vn.evil.example", "portal.example.vn:8443", ""):
        assert client.get("/api/hello", headers={"host": host}).status_code == 400, host
    assert client.get("/healthz", headers={"host": "10.0.0.5:8000"}).status_code == 200


def test_outside_production_any_host_is_served():
    assert _guarded(enforce=False).get("/api/hello", headers=EVIL).status_code == 200
