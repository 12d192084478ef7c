"""The portal and the VNPay simulator, both over real HTTP, at the addresses the settings name.

The simulator's merchant is this deployment's terminal (VNPAY_TMN_CODE, VNPAY_HASH_SECRET)
with its IPN going to the portal's own endpoint, so a tester's choice on the simulator's
payment page reaches `GET /api/payments/vnpay/ipn` the way VNPay's server would. A second
merchant lets tests sign for a terminal that is not ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from agents.dossiers import filing
from agents.dossiers.models import Dossier
from agents.points.models import AgentPoint
from agents.staff.actor import Actor
from payments import checkout
from payments.gateways import vnpay_client, vnpay_return_url
from payments.models import GatewayMessage, Payment
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from simulators.vnpay import Merchant, SimConfig
from simulators.vnpay import create_app as create_simulator
from tests.factories import citizen, ensure_procedures
from tests.servers import serve_in_thread
from tests.vnpay_support import DEFAULT_KNOBS, OTHER_SECRET, OTHER_TMN_CODE

RESIDENCE = "1.004222"  # permanent residence: 10,000 VND online
RESIDENCE_FORM = {
    "new_address": "5 Phố Huế, Hai Bà Trưng, Hà Nội",
    "household_head_name": "Nguyễn Văn Bình",
    "relationship_to_head": "Con",
}
BIRTH = "1.001193"  # birth registration: free


@dataclass
class PaymentStack:
    portal_url: str
    sim_url: str
    control: httpx.Client

    def configure(self, **knobs: Any) -> None:
        self.control.put("/_sim/config", json=knobs).raise_for_status()

    def reset_knobs(self) -> None:
        self.configure(**DEFAULT_KNOBS)

    def ipn_log(self, txn_ref: str) -> list[dict[str, Any]]:
        return self.control.get("/_sim/ipn", params={"txn_ref": txn_ref}).json()["items"]

    def transaction(self, txn_ref: str) -> dict[str, Any]:
        (record,) = self.control.get("/_sim/transactions", params={"txn_ref": txn_ref}).json()["items"]
        return record

    def replies(self, txn_ref: str) -> list[str]:
        """The RspCodes the portal answered to this payment's IPNs, in the order they were given."""
        codes = []
        for delivery in self.ipn_log(txn_ref):
            codes += [a.get("rsp_code") or a.get("RspCode") for a in delivery.get("attempts", [])]
        return [c for c in codes if c]


@pytest.fixture(scope="session")
def payment_stack(settings) -> Iterator[PaymentStack]:  # type: ignore[no-untyped-def]
    from portal.app import create_app

    ensure_procedures()
    portal_port = urlparse(settings.web.public_url).port
    sim_port = urlparse(settings.vnpay.payment_url).port
    config = SimConfig(
        merchants={
            settings.vnpay.tmn_code: Merchant(
                settings.vnpay.tmn_code,
                settings.vnpay.hash_secret,
                f"{settings.web.public_url}/api/payments/vnpay/ipn",
                "Cổng Đại lý (kiểm thử)",
            ),
            OTHER_TMN_CODE: Merchant(OTHER_TMN_CODE, OTHER_SECRET, None, "Another merchant"),
        },
        seed=11,
    )
    with (
        serve_in_thread(lambda _base: create_app(), port=portal_port) as (portal_url, _),
        serve_in_thread(lambda _base: create_simulator(config), port=sim_port) as (sim_url, _),
        httpx.Client(base_url=sim_url, timeout=10) as control,
    ):
        stack = PaymentStack(portal_url, sim_url, control)
        stack.reset_knobs()
        yield stack


@pytest.fixture
def stack(payment_stack: PaymentStack) -> Iterator[PaymentStack]:
    payment_stack.reset_knobs()
    yield payment_stack
    payment_stack.reset_knobs()


@pytest.fixture
def portal_http(payment_stack: PaymentStack) -> Iterator[httpx.Client]:
    """A plain HTTP client of the portal served over uvicorn (a citizen's browser, VNPay's server)."""
    with httpx.Client(base_url=payment_stack.portal_url, timeout=30) as client:
        yield client


def file_residence(actor: Actor, point: AgentPoint) -> Dossier:
    """A permanent-residence dossier (it carries a fee), filed through the service."""
    ensure_procedures()
    with unit_of_work(actor.partner_scope(point.partner_id)) as session:
        filed = filing.file_dossier(
            session,
            actor,
            filing.FilingRequest(RESIDENCE, point.id, uuid.uuid4().hex, citizen(), dict(RESIDENCE_FORM)),
        )
        return filed.dossier


def start(dossier: Dossier, *, by: str = "test counter") -> Payment:
    with unit_of_work(Scope.partner(dossier.partner_id, actor_label=by)) as session, vnpay_client() as client:
        return checkout.start_payment(
            session, dossier.id, started_by=by, client=client, return_url=vnpay_return_url(), ip_addr="10.1.2.3"
        ).payment


def reload_payment(payment_id: uuid.UUID) -> Payment:
    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment


def messages_of(payment_id: uuid.UUID) -> list[GatewayMessage]:
    from sqlalchemy import select

    with read_only(Scope.network("test reads back", actor_label="test")) as session:
        return list(
            session.scalars(
                select(GatewayMessage)
                .where(GatewayMessage.payment_id == payment_id)
                .order_by(GatewayMessage.recorded_at)
            )
        )
