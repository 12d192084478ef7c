"""Citizens rate the service once per dossier, after the city has finished it."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.dossiers.models import CityStatus, Dossier
from agents.ratings.links import rating_token
from agents.ratings.models import Rating
from portal.core import audit
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_


def dossier_for_rating(session: Session, tracking_code: str, token: str) -> Dossier:
    """The dossier a receipt's rating link names; any refusal looks the same, whether the code exists or not."""
    code = tracking_code.strip().upper()
    dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == code))
    # Bytes on both sides (the token is whatever the link carries), and the same work for an unknown code.
    expected = rating_token(dossier.tracking_code if dossier is not None else code).encode()
    if not hmac.compare_digest(expected, (token or "").encode("utf-8", "replace")) or dossier is None:
        raise NotFound("Liên kết đánh giá không hợp lệ")
    return dossier


def can_rate(dossier: Dossier) -> bool:
    return dossier.city_status is not None and CityStatus(dossier.city_status).is_done


def existing_rating(session: Session, dossier: Dossier) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.dossier_id == dossier.id))


def rate(session: Session, tracking_code: str, token: str, stars: object, comment: str) -> Rating:
    dossier = dossier_for_rating(session, tracking_code, token)
    if not can_rate(dossier):
        raise Conflict("Chỉ đánh giá được sau khi hồ sơ đã xử lý xong")
    try:
        score = int(str(stars))
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        raise ValidationFailed("Vui lòng chọn từ 1 đến 5 sao", field_errors={"stars": N_("Chọn từ 1 đến 5 sao")})
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ValidationFailed("Nhận xét quá dài", field_errors={"comment": N_("Tối đa 1000 ký tự")})
    if existing_rating(session, dossier) is not None:
        raise Conflict("Hồ sơ này đã được đánh giá")
    rating = Rating(
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        agent_point_id=dossier.agent_point_id,
        stars=score,
        comment=comment,
    )
    try:
        with session.begin_nested():
            session.add(rating)
            audit.record(
                session,
                "rating.created",
                "dossier",
                dossier.id,
                partner_id=dossier.partner_id,
                detail={"stars": score},
                actor_label="citizen (rating link)",
            )
    except IntegrityError as exc:  # the same dossier rated concurrently: the other one was stored
        raise Conflict("Hồ sơ này đã được đánh giá") from exc
    return rating
