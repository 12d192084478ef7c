"""Payments through VNPay (docs/payments.md): start one, read it, VNPay's IPN and the citizen's return page.

The IPN (`GET /api/payments/vnpay/ipn`) is the only route that marks a payment paid; it
opens its own unit of work (payments.confirmation) so that it can answer VNPay's JSON codes
whatever happens, after the commit. The return page only shows the result.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from payments import checkout, confirmation, queries
from payments.gateways import vnpay_client, vnpay_return_url
from payments.gateways.vnpay import CallbackRejected
from payments.schemas import PaymentOut, PaymentStartedOut
from portal.auth.api_tokens import BearerOrCSRFMiddleware
from portal.auth.guards import api_caller
from portal.auth.session import client_ip
from portal.deps import Actor, Session, Viewer, api_work, public_work
from portal.templating import page


class PaymentController(Controller):
    path = "/"

    @post(
        "/api/v1/dossiers/{dossier_id:uuid}/payments",
        sync_to_thread=True,
        status_code=201,
        exclude_from_csrf=True,
        middleware=[BearerOrCSRFMiddleware],
        guards=[api_caller],
        opt=api_work("payments"),
    )
    def start_payment(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]
    ) -> PaymentStartedOut:
        """Start paying what the dossier still owes (the open attempt, if one is open). 409: nothing to pay."""
        with vnpay_client() as client:
            started = checkout.start_for_actor(
                session,
                actor,
                dossier_id,
                client=client,
                return_url=vnpay_return_url(),
                ip_addr=client_ip(request),
            )
        return PaymentStartedOut.of(started.payment)

    @get("/api/v1/payments/{payment_id:uuid}", sync_to_thread=True, guards=[api_caller], opt=api_work("payments"))
    def get_payment(self, actor: Actor, session: Session, payment_id: FromPath[uuid.UUID]) -> PaymentOut:
        return PaymentOut.of(queries.get_for_actor(session, actor, payment_id))

    @get("/api/payments/vnpay/ipn", sync_to_thread=True)
    def vnpay_ipn(self, request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        """VNPay's server tells us a payment's result. Always HTTP 200 with `{"RspCode", "Message"}`."""
        with vnpay_client() as client:
            reply = confirmation.receive_ipn(request.scope.get("query_string", b""), client, origin=client_ip(request))
        return Response(reply.body, status_code=200, media_type="application/json")

    @get(
        "/payments/vnpay/return",
        sync_to_thread=True,
        opt=public_work("VNPay return page: the citizen sees a payment's result", "citizen (VNPay return)"),
    )
    def vnpay_return(self, request: Request[Any, Any, Any], viewer: Viewer, session: Session) -> Template:
        """Where VNPay sends the citizen back: shows what VNPay says and what we recorded; changes nothing."""
        with vnpay_client() as client:
            try:
                callback = client.verify_callback(request.scope.get("query_string", b""))
            except CallbackRejected:
                return page("payments/return.html", status_code=400, actor=viewer, verified=False, callback=None)
        payment = queries.by_txn_ref(session, callback.txn_ref)
        return page(
            "payments/return.html",
            actor=viewer,
            verified=True,
            callback=callback,
            outcome=callback.outcome.value,
            payment=payment,
        )
