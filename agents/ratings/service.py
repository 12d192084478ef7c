"""Citizens rate a dossier's service through its signed link: once per kind, each in its window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.dossiers.models import CityStatus, Dossier
from agents.ratings import flags
from agents.ratings.links import LinkRefused, check_token
from agents.ratings.models import Rating
from agents.ratings.rules import (
    CAME_BACK_CHOICES,
    COMMENT_MAX,
    RatingKind,
    Sipas,
    Timeliness,
    window_closes,
)
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from portal.core.i18n import N_


class RatingLinkExpired(DomainError):
    status_code = 410
    code = "rating_link_expired"


@dataclass(frozen=True)
class Origin:
    """Where a rating was sent from, as the request saw it (digested before it is stored)."""

    ip: str = ""
    device: str = ""


def dossier_for_rating(session: Session, tracking_code: str, token: str) -> Dossier:
    """The dossier a rating link names; a forged or altered link looks the same whether the code exists or not."""
    code = (tracking_code or "").strip().upper()
    dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == code))
    try:
        check_token(dossier.tracking_code if dossier is not None else code, token)
    except LinkRefused as exc:
        if exc.expired and dossier is not None:
            raise RatingLinkExpired("Liên kết đánh giá đã hết hạn") from exc
        raise NotFound("Liên kết đánh giá không hợp lệ") from exc
    if dossier is None:
        raise NotFound("Liên kết đánh giá không hợp lệ")
    return dossier


def done_at(dossier: Dossier) -> datetime | None:
    """When the city finished (status 9 or 10), or None."""
    if dossier.city_status is None or not CityStatus(dossier.city_status).is_done:
        return None
    return dossier.finished_at or dossier.returned_at or dossier.updated_at


def is_open(dossier: Dossier, kind: RatingKind, now: datetime | None = None) -> bool:
    closes = window_closes(kind, dossier.submitted_at, done_at(dossier))
    return closes is not None and (now or utcnow()) <= closes


def can_rate(session: Session, dossier: Dossier) -> bool:
    """Some kind of rating is open and not given yet (the tracking page shows the button)."""
    given = ratings_of(session, dossier)
    return any(is_open(dossier, kind) and kind not in given for kind in RatingKind)


def ratings_of(session: Session, dossier: Dossier) -> dict[RatingKind, Rating]:
    rows = session.scalars(select(Rating).where(Rating.dossier_id == dossier.id))
    return {RatingKind(r.kind): r for r in rows}


def existing_rating(session: Session, dossier: Dossier) -> Rating | None:
    """The result rating, if given."""
    return ratings_of(session, dossier).get(RatingKind.result)


@dataclass(frozen=True)
class Answers:
    stars: int
    attitude: Sipas
    timeliness: Timeliness
    came_back: int
    comment: str


def parse_answers(data: Mapping[str, str]) -> Answers:
    """Every answer checked at once; the error names each field that is wrong."""
    errors: dict[str, object] = {}
    stars_text = str(data.get("stars", "")).strip()
    stars = int(stars_text) if stars_text in {"1", "2", "3", "4", "5"} else 0  # ASCII digits only
    if not stars:
        errors["stars"] = N_("Chọn từ 1 đến 5 sao")
    try:
        attitude = Sipas(str(data.get("attitude", "")))
    except ValueError:
        errors["attitude"] = N_("Chọn một mức hài lòng về thái độ của nhân viên")
    try:
        timeliness = Timeliness(str(data.get("timeliness", "")))
    except ValueError:
        errors["timeliness"] = N_("Cho biết có đúng hẹn không")
    came_back_text = str(data.get("came_back", "")).strip()
    came_back = int(came_back_text) if came_back_text in {str(c) for c in CAME_BACK_CHOICES} else -1
    if came_back < 0:
        errors["came_back"] = N_("Cho biết bạn có phải quay lại không")
    comment = str(data.get("comment", "") or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = N_("Tối đa 1000 ký tự")
    if errors:
        raise ValidationFailed("Vui lòng kiểm tra các câu trả lời", field_errors=errors)  # type: ignore[arg-type]
    return Answers(stars, attitude, timeliness, came_back, comment)


def parse_kind(value: str) -> RatingKind:
    try:
        return RatingKind(value or RatingKind.result.value)
    except ValueError:
        raise ValidationFailed(
            "Loại đánh giá không hợp lệ", field_errors={"kind": N_("Chỉ có đánh giá tại quầy hoặc kết quả")}
        ) from None


def rate(
    session: Session,
    tracking_code: str,
    token: str,
    kind: RatingKind,
    data: Mapping[str, str],
    origin: Origin = Origin(),
) -> Rating:
    """Store the citizen's rating of one kind for the dossier the link names, once; flags follow in the same unit."""
    dossier = dossier_for_rating(session, tracking_code, token)
    now = utcnow()
    if not is_open(dossier, kind, now):
        if kind is RatingKind.result and done_at(dossier) is None:
            raise Conflict("Chỉ đánh giá được sau khi hồ sơ đã xử lý xong")
        raise Conflict("Đã hết thời gian đánh giá cho hồ sơ này")
    answers = parse_answers(data)
    if kind in ratings_of(session, dossier):
        raise Conflict("Hồ sơ này đã được đánh giá")
    rating = Rating(
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        kind=kind,
        agent_point_id=dossier.agent_point_id,
        staff_account_id=dossier.staff_account_id,
        stars=answers.stars,
        attitude=answers.attitude,
        timeliness=answers.timeliness,
        came_back=answers.came_back,
        comment=answers.comment,
        network_digest=flags.network_digest(origin.ip),
        device_digest=flags.device_digest(origin.device),
        seconds_after_filing=max(0, int((now - dossier.submitted_at).total_seconds())),
    )
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError as exc:  # the same dossier and kind rated concurrently: the other one was stored
        raise Conflict("Hồ sơ này đã được đánh giá") from exc
    audit.record(
        session,
        "rating.created",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"kind": kind.value, "stars": answers.stars},
        actor_label="citizen (rating link)",
    )
    flags.check(session, rating)
    return rating
