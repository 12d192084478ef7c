"""The citizen withdraws a dossier (DVCQG status 7), at the counter, with their signed request attached.

The request file is checked and scanned like any counter upload and kept with the dossier; the
withdrawal goes to the city through its withdrawal operation, once (agents/dossiers/city_requests.py).
The city's status-7 report then finishes the dossier like any other report.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from agents import policy
from agents.documents import service as documents
from agents.dossiers import city_requests, queries
from agents.dossiers.models import CityRequest, CityRequestKind, CityStatus, DossierEvent, DossierState
from agents.policy import Permission
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_

MAX_REASON = 1000
#: The city takes a withdrawal in these statuses only (docs/city-api.md); None: forwarded, no report yet.
WITHDRAWABLE = frozenset(
    {None, CityStatus.new, CityStatus.received, CityStatus.processing, CityStatus.supplement_requested}
)


def submit(
    session: Session, actor: Actor, dossier_id: uuid.UUID, reason: str, request_file: bytes | None, file_name: str = ""
) -> CityRequest:
    """Withdraw the dossier at the citizen's request: 404 when out of reach, 409 when it is finished (or not at
    the city, or withdrawn already), 422 naming the field for a missing reason or request file."""
    try:
        dossier = queries.get_for_actor(session, actor, dossier_id)
    except NotFound:  # missing or out of reach, the same answer; the attempt goes on the record
        audit.record_refusal(
            session, "dossier.withdrawal_refused", "dossier", dossier_id, detail={"reason": "not_found"}
        )
        raise
    policy.require(actor, Permission.file_dossiers, partner_id=dossier.partner_id, point_id=dossier.agent_point_id)
    status = CityStatus(dossier.city_status) if dossier.city_status else None
    if dossier.state is not DossierState.forwarded or status not in WITHDRAWABLE:
        audit.record_refusal(
            session,
            "dossier.withdrawal_refused",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": "not_withdrawable", "state": dossier.state.value, "city_status": dossier.city_status},
        )
        if dossier.state is DossierState.queued:
            raise Conflict(N_("Hồ sơ chưa được hệ thống một cửa nhận; vui lòng rút sau khi cơ quan đã nhận hồ sơ"))
        raise Conflict(N_("Hồ sơ đã kết thúc hoặc đã có kết quả nên không rút được"))
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = N_("Bắt buộc nhập")
    elif len(reason) > MAX_REASON:
        errors["reason"] = N_("Quá dài (tối đa 1000 ký tự)")
    if not request_file:
        errors["request"] = N_("Cần đính kèm đơn rút hồ sơ có chữ ký của công dân")
    if errors:
        audit.record_refusal(
            session,
            "dossier.withdrawal_refused",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": "invalid", "fields": sorted(errors)},
        )
        raise ValidationFailed(
            N_("Yêu cầu rút hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu"), field_errors=errors
        )
    request = city_requests.queue(
        session,
        dossier,
        CityRequestKind.withdrawal,
        1,
        reason,
        actor.account_id,
        N_("Đã gửi yêu cầu rút hồ sơ này"),
    )
    assert request_file is not None
    try:
        documents.add_to_dossier(session, actor, dossier, documents.WITHDRAWAL_REQUEST, request_file, file_name)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field_errors={"request": exc.message}) from exc
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=utcnow(),
            source="portal",
            state=dossier.state.value,
            actor=actor.full_name,
            note=f"Công dân yêu cầu rút hồ sơ (đơn có chữ ký đính kèm). Lý do: {reason}",
        )
    )
    audit.record(
        session,
        "dossier.withdrawal_requested",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"reason": reason[:300]},
    )
    session.flush()
    return request
