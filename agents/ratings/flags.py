"""Suspicious ratings are flagged with their evidence, never deleted (decision 0030).

Three patterns, checked as each rating arrives (in its unit of work):
- `burst_device` / `burst_network`: many top ratings from one browser or one network in a short time;
- `own_network`: a rating sent from the network the dossier was filed from, seconds after filing
  (the staff rating themselves at the counter);
- `staff_outlier`: a staff member whose ratings sit far above the rest of their point's.
The center reads the flags with the evidence and may leave flagged ratings out of averages
(`exclude`, with a reason, audited); the rating and its flags stay.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers.models import Dossier
from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.ratings.models import Rating, RatingFlag
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.audit import AuditEvent
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings

TOP_STARS = 5
BURST_WINDOW = timedelta(hours=1)
BURST_DEVICE = 3  # top ratings from one browser within the window
BURST_NETWORK = 5  # top ratings from one network within the window
OWN_NETWORK_SECONDS = 600  # rated from the filing network within ten minutes of filing
STAFF_MIN_RATINGS = 10  # a staff member's average is compared once they have this many
STAFF_MARGIN = 1.0  # stars above the rest of the point

REASONS = {
    "burst_device": N_("Nhiều đánh giá 5 sao từ cùng một thiết bị trong thời gian ngắn"),
    "burst_network": N_("Nhiều đánh giá 5 sao từ cùng một mạng trong thời gian ngắn"),
    "own_network": N_("Gửi từ mạng của điểm tiếp nhận ngay sau khi nộp"),
    "staff_outlier": N_("Điểm của nhân viên cao bất thường so với điểm tiếp nhận"),
}


def _digest(purpose: str, value: str) -> str:
    if not value:
        return ""
    key = hashlib.sha256((f"rating-{purpose}:" + get_settings().keys.secret_key).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def network_of(ip: str) -> str:
    """The network an address belongs to: its /24 (IPv4) or /48 (IPv6); '' when it is not an address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def network_digest(ip: str) -> str:
    return _digest("network", network_of(ip))


def device_digest(device: str) -> str:
    return _digest("device", device)


def _flag(session: Session, rating: Rating, reason: str, evidence: dict[str, Any]) -> None:
    exists = session.scalar(select(RatingFlag.id).where(RatingFlag.rating_id == rating.id, RatingFlag.reason == reason))
    if exists is None:
        session.add(RatingFlag(partner_id=rating.partner_id, rating_id=rating.id, reason=reason, evidence=evidence))


def _burst(session: Session, rating: Rating, column: Any, value: str, threshold: int, reason: str) -> None:
    if not value or rating.stars < TOP_STARS:
        return
    since = utcnow() - BURST_WINDOW
    burst = list(
        session.scalars(select(Rating).where(column == value, Rating.stars >= TOP_STARS, Rating.created_at >= since))
    )
    if len(burst) < threshold:
        return
    evidence = {
        "count": len(burst),
        "window_minutes": int(BURST_WINDOW.total_seconds() // 60),
        "source": value[:12],
        "ratings": sorted(str(r.id) for r in burst),
    }
    for other in burst:
        _flag(session, other, reason, evidence)


def _filing_network(session: Session, rating: Rating) -> str:
    origin = session.scalar(
        select(AuditEvent.origin)
        .where(AuditEvent.action == "dossier.filed", AuditEvent.object_id == str(rating.dossier_id))
        .limit(1)
    )
    return network_digest(origin or "")


def _own_network(session: Session, rating: Rating) -> None:
    seconds = rating.seconds_after_filing
    if not rating.network_digest or seconds is None or seconds > OWN_NETWORK_SECONDS:
        return
    if _filing_network(session, rating) == rating.network_digest:
        _flag(session, rating, "own_network", {"seconds_after_filing": seconds, "network": rating.network_digest[:12]})


def _staff_outlier(session: Session, rating: Rating) -> None:
    if rating.staff_account_id is None:
        return
    counted = (Rating.agent_point_id == rating.agent_point_id) & Rating.excluded.is_(False)
    mine = session.execute(
        select(func.count(), func.avg(Rating.stars)).where(counted, Rating.staff_account_id == rating.staff_account_id)
    ).one()
    rest = session.execute(
        select(func.count(), func.avg(Rating.stars)).where(counted, Rating.staff_account_id != rating.staff_account_id)
    ).one()
    if mine[0] < STAFF_MIN_RATINGS or not rest[0]:
        return
    staff_average, point_average = float(mine[1]), float(rest[1])
    if staff_average - point_average >= STAFF_MARGIN:
        _flag(
            session,
            rating,
            "staff_outlier",
            {
                "staff_average": round(staff_average, 2),
                "staff_ratings": mine[0],
                "point_average": round(point_average, 2),
                "point_ratings": rest[0],
            },
        )


def check(session: Session, rating: Rating) -> None:
    """Flag the new rating (and, for a burst, the others in it) where a pattern matches."""
    _burst(session, rating, Rating.device_digest, rating.device_digest, BURST_DEVICE, "burst_device")
    _burst(session, rating, Rating.network_digest, rating.network_digest, BURST_NETWORK, "burst_network")
    _own_network(session, rating)
    _staff_outlier(session, rating)
    session.flush()


@dataclass
class FlaggedRating:
    rating: Rating
    flags: list[RatingFlag]
    tracking_code: str
    point_name: str
    partner_name: str


def flagged(session: Session, *, limit: int = 200) -> list[FlaggedRating]:
    """Flagged ratings, newest first, each with its flags and where it was given (in the session's scope)."""
    rows = session.execute(
        select(Rating, Dossier.tracking_code, AgentPoint.name, Partner.name)
        .join(Dossier, Dossier.id == Rating.dossier_id)
        .join(AgentPoint, AgentPoint.id == Rating.agent_point_id)
        .join(Partner, Partner.id == Rating.partner_id)
        .where(Rating.id.in_(select(RatingFlag.rating_id)))
        .order_by(Rating.created_at.desc())
        .limit(limit)
    ).all()
    ids = [row[0].id for row in rows]
    by_rating: dict[uuid.UUID, list[RatingFlag]] = {}
    for flag in session.scalars(select(RatingFlag).where(RatingFlag.rating_id.in_(ids)).order_by(RatingFlag.reason)):
        by_rating.setdefault(flag.rating_id, []).append(flag)
    return [FlaggedRating(r, by_rating.get(r.id, []), code, point, partner) for r, code, point, partner in rows]


def exclude(session: Session, actor: Actor, rating_id: uuid.UUID, reason: str, *, exclude: bool = True) -> Rating:
    """The center leaves a flagged rating out of averages (or counts it again), with a reason, audited."""
    policy.require(actor, Permission.review_ratings)
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound("Không tìm thấy đánh giá")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Cần nêu lý do", field_errors={"reason": N_("Nêu lý do")})
    if len(reason) > 500:
        raise ValidationFailed("Lý do quá dài", field_errors={"reason": N_("Tối đa 500 ký tự")})
    if session.scalar(select(RatingFlag.id).where(RatingFlag.rating_id == rating.id).limit(1)) is None:
        raise Conflict("Chỉ loại được đánh giá đã bị gắn cờ")
    if rating.excluded and exclude:
        raise Conflict("Đánh giá đã được loại")
    if not rating.excluded and not exclude:
        raise Conflict("Đánh giá đang được tính")
    rating.excluded = exclude
    rating.excluded_reason = reason
    rating.excluded_at = utcnow() if exclude else None
    audit.record(
        session,
        "rating.excluded" if exclude else "rating.included",
        "rating",
        rating.id,
        partner_id=rating.partner_id,
        detail={"reason": reason, "dossier_id": str(rating.dossier_id)},
    )
    session.flush()
    return rating
