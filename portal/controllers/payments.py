"""Payments through VNPay (docs/payments.md): start one, read it, VNPay's IPN and the citizen's return page.

The IPN (`GET /api/payments/vnpay/ipn`) is the only route that marks a payment paid; it
opens its own unit of work (payments.confirmation) so that it can answer VNPay's JSON codes
whatever happens, after the commit. The return page only shows the result.
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import segno
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from markupsafe import Markup

from agents.policy import Permission
from agents.reporting.export import XLSX_MEDIA_TYPE, SafeCsvWriter, xlsx_bytes
from payments import checkout, confirmation, queries, refunds, settlement
from payments.gateways import vnpay_client, vnpay_return_url
from payments.gateways.vnpay import CallbackRejected
from payments.schemas import PaymentOut, PaymentStartedOut, RefundDecisionIn, RefundIn, RefundOut
from portal.auth.api_tokens import BearerOrCSRFMiddleware
from portal.auth.guards import api_caller, requires, signed_in
from portal.auth.session import client_ip
from portal.core.errors import NotFound, ValidationFailed
from portal.core.i18n import N_
from portal.deps import Actor, Session, Viewer, api_work, network_work, partner_work, public_work
from portal.templating import page


def payment_qr(url: str, *, size_mm: float = 40.0) -> Markup:
    """The payment URL as an inline SVG QR code (segno directly: the PDF stack stays out of the web process)."""
    code = segno.make(url, error="m", micro=False)
    width, _ = code.symbol_size(scale=1, border=4)
    svg = code.svg_inline(scale=size_mm / width, unit="mm", border=4, title="VNPay", dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno writes the SVG


Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
UTF8_BOM = "\ufeff"  # Excel reads UTF-8 only with it (see portal/controllers/dashboards.py)
MAX_SETTLEMENT_DAYS = 92


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    today = datetime.now(settlement.VN).date()
    last = last or first or today
    first = first or last
    if first > last or (last - first) > timedelta(days=MAX_SETTLEMENT_DAYS):
        raise ValidationFailed(
            "Khoảng thời gian không hợp lệ (tối đa %(days)s ngày)", params={"days": MAX_SETTLEMENT_DAYS}
        )
    return first, last


SETTLEMENT_COLUMNS = (
    "day",
    "partner_code",
    "partner",
    "point_code",
    "point",
    "procedure_code",
    "procedure",
    "payments",
    "collected_vnd",
    "refunded_vnd",
    "net_vnd",
)


def _settlement_cells(rows: list[settlement.SettlementRow]) -> list[list[object]]:
    return [
        [
            r.day.isoformat(),
            r.partner_code,
            r.partner_name,
            r.point_code,
            r.point_name,
            r.procedure_code,
            r.procedure_name,
            r.payments,
            r.collected_vnd,
            r.refunded_vnd,
            r.net_vnd,
        ]
        for r in rows
    ]


def _attachment(first: date, last: date, extension: str) -> dict[str, str]:
    name = f"settlement-{first.isoformat()}-{last.isoformat()}.{extension}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _settlement_csv(rows: list[settlement.SettlementRow], first: date, last: date) -> Response[str]:
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = SafeCsvWriter(out)  # names are typed by people: no cell may run as a formula
    writer.writerow(SETTLEMENT_COLUMNS)
    writer.writerows(_settlement_cells(rows))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=_attachment(first, last, "csv"))


def _settlement_xlsx(rows: list[settlement.SettlementRow], first: date, last: date) -> Response[bytes]:
    """The same columns and rows as the CSV, as one worksheet (amounts are numbers, names never formulas)."""
    book = xlsx_bytes(SETTLEMENT_COLUMNS, _settlement_cells(rows), sheet="settlement")
    return Response(book, media_type=XLSX_MEDIA_TYPE, headers=_attachment(first, last, "xlsx"))


def _settlement_page(actor: Any, rows: list[settlement.SettlementRow], first: date, last: date, base: str) -> Template:
    return page(
        "payments/settlement.html",
        actor=actor,
        rows=rows,
        first=first,
        last=last,
        totals={
            "collected": sum(r.collected_vnd for r in rows),
            "refunded": sum(r.refunded_vnd for r in rows),
            "net": sum(r.net_vnd for r in rows),
        },
        title=N_("Đối soát thu phí"),
        csv_url=f"{base}.csv?first={first.isoformat()}&last={last.isoformat()}",
        xlsx_url=f"{base}.xlsx?first={first.isoformat()}&last={last.isoformat()}",
        form_url=base,
    )


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

    # The staff screen: the counter opens (or shows again) the QR code the citizen scans.
    @post("/dossiers/{dossier_id:uuid}/payments", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def start_payment_at_the_counter(
        self, request: Request[Any, Any, Any], actor: Actor, session: Session, dossier_id: FromPath[uuid.UUID]
    ) -> Redirect:
        with vnpay_client() as client:
            checkout.start_for_actor(
                session, actor, dossier_id, client=client, return_url=vnpay_return_url(), ip_addr=client_ip(request)
            )
        return Redirect(f"/dossiers/{dossier_id}#payment", status_code=303)

    # The tracking page: whoever gave the tracking code and the phone holds the page's token.
    @post(
        "/track/{code:str}/pay",
        sync_to_thread=True,
        opt=public_work("citizen starts paying a dossier's fee from the tracking page"),
    )
    def start_payment_from_tracking(
        self, request: Request[Any, Any, Any], viewer: Viewer, session: Session, code: FromPath[str], data: Form
    ) -> Template:
        if not queries.pay_token_matches(code, data.get("token", "")):
            raise NotFound("Không tìm thấy hồ sơ")
        dossier = queries.dossier_by_code(session, code)
        with vnpay_client() as client:
            started = checkout.start_payment(
                session,
                dossier.id,
                started_by="citizen (tracking page)",
                client=client,
                return_url=vnpay_return_url(),
                ip_addr=client_ip(request),
            )
        return page(
            "payments/pay.html",
            actor=viewer,
            dossier=dossier,
            payment=started.payment,
            pay_qr=payment_qr(started.payment.payment_url, size_mm=50),
        )

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

    # -- refunds ------------------------------------------------------------------------------

    @post(
        "/api/v1/payments/{payment_id:uuid}/refunds",
        sync_to_thread=True,
        status_code=201,
        exclude_from_csrf=True,
        middleware=[BearerOrCSRFMiddleware],
        guards=[api_caller],
        opt=api_work("payments"),
    )
    def request_refund(
        self, actor: Actor, session: Session, payment_id: FromPath[uuid.UUID], data: JSONBody[RefundIn]
    ) -> RefundOut:
        """Ask for a paid fee to be given back (the city refused or stopped the dossier); a center admin decides."""
        refund = refunds.request_refund(session, actor, payment_id, amount_vnd=data.amount_vnd, reason=data.reason)
        return RefundOut.of(refund)

    @get(
        "/api/v1/refunds",
        sync_to_thread=True,
        guards=[requires(Permission.approve_refunds)],
        opt=network_work("center admin reviews refund requests"),
    )
    def refund_requests(self, actor: Actor, session: Session) -> list[RefundOut]:
        return [RefundOut.of(r) for r, _ in refunds.pending_requests(session, actor)]

    @post(
        "/api/v1/refunds/{refund_id:uuid}/approve",
        sync_to_thread=True,
        status_code=200,
        guards=[requires(Permission.approve_refunds)],
        opt=network_work("center admin approves a refund"),
    )
    def approve_refund(self, actor: Actor, session: Session, refund_id: FromPath[uuid.UUID]) -> RefundOut:
        """Approve: the refund is sent to VNPay's refund API by a task after the commit."""
        return RefundOut.of(refunds.approve_refund(session, actor, refund_id))

    @post(
        "/api/v1/refunds/{refund_id:uuid}/reject",
        sync_to_thread=True,
        status_code=200,
        guards=[requires(Permission.approve_refunds)],
        opt=network_work("center admin rejects a refund"),
    )
    def reject_refund(
        self, actor: Actor, session: Session, refund_id: FromPath[uuid.UUID], data: JSONBody[RefundDecisionIn]
    ) -> RefundOut:
        return RefundOut.of(refunds.reject_refund(session, actor, refund_id, reason=data.reason))

    # -- settlement ---------------------------------------------------------------------------

    @get("/partner/settlement", sync_to_thread=True, guards=[requires(Permission.see_settlement)], opt=partner_work())
    def partner_settlement(
        self, actor: Actor, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Template:
        start, end = _period(first, last)
        return _settlement_page(actor, settlement.settlement(session, start, end), start, end, "/partner/settlement")

    @get(
        "/partner/settlement.csv", sync_to_thread=True, guards=[requires(Permission.see_settlement)], opt=partner_work()
    )
    def partner_settlement_csv(
        self, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Response[str]:
        start, end = _period(first, last)
        return _settlement_csv(settlement.settlement(session, start, end), start, end)

    @get(
        "/partner/settlement.xlsx",
        sync_to_thread=True,
        guards=[requires(Permission.see_settlement)],
        opt=partner_work(),
    )
    def partner_settlement_xlsx(
        self, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Response[bytes]:
        start, end = _period(first, last)
        return _settlement_xlsx(settlement.settlement(session, start, end), start, end)

    @get(
        "/center/settlement",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center settlement of fees"),
    )
    def center_settlement(
        self, actor: Actor, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Template:
        start, end = _period(first, last)
        return _settlement_page(actor, settlement.settlement(session, start, end), start, end, "/center/settlement")

    @get(
        "/center/settlement.csv",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center settlement of fees"),
    )
    def center_settlement_csv(
        self, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Response[str]:
        start, end = _period(first, last)
        return _settlement_csv(settlement.settlement(session, start, end), start, end)

    @get(
        "/center/settlement.xlsx",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center settlement of fees"),
    )
    def center_settlement_xlsx(
        self, session: Session, first: FromQuery[date | None] = None, last: FromQuery[date | None] = None
    ) -> Response[bytes]:
        start, end = _period(first, last)
        return _settlement_xlsx(settlement.settlement(session, start, end), start, end)
