"""A point's premises photo: checked, scanned and stored like every upload, shown to the center and the public.

The partner's manager uploads it (JPEG or PNG, by content); clamd must say clean before it
is stored, encrypted, by content hash (agents.documents.service.store_image); a refusal is
on the audit log (`document.refused`) and nothing is kept. The center sees it when it
approves the point; the locator shows it for approved points only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from agents.documents import service as documents
from agents.points.hours import managed_point
from agents.points.models import AgentPoint, AgentPointStatus
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.blob_store import BlobStore
from portal.core.errors import NotFound
from portal.core.scanner import ClamdScanner

PURPOSE = "premises_photo"


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    content_hash: str


def set_photo(
    session: Session,
    actor: Actor,
    point_id: uuid.UUID,
    data: bytes,
    *,
    clamd: ClamdScanner | None = None,
    files: BlobStore | None = None,
) -> AgentPoint:
    """The manager replaces the point's premises photo (the change is audited; the old file stays stored)."""
    point = managed_point(session, actor, point_id)
    kind, digest = documents.store_image(
        session,
        data,
        object_type="agent_point",
        object_id=point.id,
        partner_id=point.partner_id,
        purpose=PURPOSE,
        clamd=clamd,
        files=files,
    )
    before = point.photo_hash
    point.photo_hash, point.photo_content_type = digest, kind.value
    session.flush()
    audit.record(
        session,
        "agent_point.photo_changed",
        "agent_point",
        point.id,
        partner_id=point.partner_id,
        detail={"sha256": digest, "type": kind.value, "size": len(data), "before": before},
    )
    return point


def _photo(point: AgentPoint | None, files: BlobStore | None) -> Photo:
    if point is None or not point.photo_hash or not point.photo_content_type:
        raise NotFound("Điểm chưa có ảnh")
    return Photo(documents.read_stored(point.photo_hash, files), point.photo_content_type, point.photo_hash)


def managed_photo(session: Session, actor: Actor, point_id: uuid.UUID, files: BlobStore | None = None) -> Photo:
    """The photo, for the point's own manager."""
    return _photo(managed_point(session, actor, point_id), files)


def network_photo(session: Session, point_id: uuid.UUID, files: BlobStore | None = None) -> Photo:
    """The photo, for the center (in a network scope: any point, pending ones included)."""
    return _photo(session.get(AgentPoint, point_id), files)


def public_photo(session: Session, point_id: uuid.UUID, files: BlobStore | None = None) -> Photo:
    """The photo, for the public: an approved point's only (others answer like a missing one)."""
    point = session.get(AgentPoint, point_id)
    return _photo(point if point is not None and point.status is AgentPointStatus.approved else None, files)
