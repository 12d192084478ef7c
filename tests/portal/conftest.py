"""Clients for the portal's pages and API, in-process over ASGI, signed in as a given person."""

from __future__ import annotations

import itertools
import re

import pytest
from litestar.testing import TestClient

from portal.app import create_app
from tests.documents import a_pdf, ensure_portal_clamd, mandatory_slots
from tests.factories import PASSWORD


class PortalClient:
    def __init__(self, client: TestClient) -> None:
        self.http = client

    @property
    def csrf(self) -> str:
        token = self.http.cookies.get("csrftoken")
        if token is None:
            self.http.get("/login")
            token = self.http.cookies.get("csrftoken")
        return token

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.http.get(url, **kw)

    def post_form(self, url: str, data: dict, **kw):  # type: ignore[no-untyped-def]
        return self.http.post(url, data={**data, "_csrf_token": self.csrf}, follow_redirects=False, **kw)

    def post_json(self, url: str, body: dict, **kw):  # type: ignore[no-untyped-def]
        return self.http.post(url, json=body, headers={"x-csrftoken": self.csrf}, **kw)

    def attach_scans(self, draft_path: str, page: str) -> None:
        """Upload a one-page PDF into each mandatory document of the draft whose page this is."""
        if slots := mandatory_slots(page):
            ensure_portal_clamd()
            for slot in slots:
                uploaded = self.http.post(
                    f"{draft_path}/documents/{slot}",
                    data={"_csrf_token": self.csrf},
                    files=[("file", ("scan.pdf", a_pdf(), "application/pdf"))],
                    follow_redirects=False,
                )
                assert uploaded.status_code == 303, uploaded.text[:500]

    def sign_in(self, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self.post_form("/login", {"email": email, "password": password})

    def form_defaults(self, url: str) -> dict[str, str]:
        """Open the filing page (a new draft), put a scan into each mandatory document: the form's hidden values."""
        response = self.get(url)
        page = response.text
        self.attach_scans(response.url.path, page)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
        point = re.search(r'name="agent_point_id".*?value="([^"]+)"', page, re.S).group(1)
        return {"idempotency_key": key, "agent_point_id": point}


@pytest.fixture(scope="session")
def app():  # type: ignore[no-untyped-def]
    return create_app()


class FromAddress:
    """The app as reached from one client address (each browser of a test is its own source).

    Rate limits and sign-in budgets count per source address; Litestar's test
    client would otherwise make every client of the whole run one source.
    """

    def __init__(self, app, host: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.host = app, host

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self.host, 50000)}
        await self.app(scope, receive, send)


_addresses = itertools.count(1)


def next_address() -> str:
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture
def portal(app):  # type: ignore[no-untyped-def]
    """A browser-like client with its own cookie jar and its own source address (or the one given)."""

    # Not entered as a context manager: several clients share one app, and the
    # app has no lifespan hooks to run.
    def make(source: str | None = None) -> PortalClient:
        return PortalClient(TestClient(FromAddress(app, source or next_address()), base_url="http://testserver.local"))

    return make
