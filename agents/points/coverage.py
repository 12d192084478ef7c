"""Coverage for the center: which wards have no open point within 5 km of their centroid, and where
one new point would cover the most of them.

Straight-line (great-circle) distances between a ward's centroid and the points, not by road
and not to the ward's edge: the legal standard (a point within 5 km or 30 minutes) is read as
5 km from the centroid. "Open" means an approved point of an active partner, not under a
temporary closure today. A candidate site is a ward's centroid; it covers the uncovered wards
whose centroids lie within 5 km of it. Candidates are ranked by the people they would reach:
a ward's population where the center imported one, and otherwise the average of the wards of
its kind (phường or xã) that have one (1 each when none has any), then by the number of wards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.points import hours, rules
from agents.points.models import AgentPoint, AgentPointStatus
from agents.wards.models import Ward
from agents.wards.service import all_wards

RADIUS_KM = 5.0


@dataclass
class WardCoverage:
    ward: Ward
    nearest_km: float | None  # to the nearest open point (None: there is none)
    weight: float  # the ward's population, or its estimate (see the module docstring)

    @property
    def covered(self) -> bool:
        return self.nearest_km is not None and self.nearest_km <= RADIUS_KM


@dataclass
class Candidate:
    site: Ward
    reaches: list[WardCoverage] = field(default_factory=list)

    @property
    def people(self) -> float:
        return sum(w.weight for w in self.reaches)

    @property
    def known_people(self) -> int:
        return sum(w.ward.population or 0 for w in self.reaches)


@dataclass(frozen=True)
class Coverage:
    wards: list[WardCoverage]
    candidates: list[Candidate]  # best first; only sites that reach at least one uncovered ward
    open_points: int
    radius_km: float = RADIUS_KM

    @property
    def uncovered(self) -> list[WardCoverage]:
        return [w for w in self.wards if not w.covered]


def _open_points(session: Session) -> list[AgentPoint]:
    points = list(
        session.scalars(
            select(AgentPoint)
            .join(Partner, Partner.id == AgentPoint.partner_id)
            .where(AgentPoint.status == AgentPointStatus.approved, Partner.status == PartnerStatus.active)
        )
    )
    today = hours.hanoi_now().date()
    closures = hours.closures_of(session, [p.id for p in points], today)
    return [p for p in points if not any(c.starts_on <= today <= c.ends_on for c in closures[p.id])]


def _weights(wards: list[Ward]) -> dict[str, float]:
    known: dict[str, list[int]] = {}
    for ward in wards:
        if ward.population is not None:
            known.setdefault(ward.kind, []).append(ward.population)
    average = {kind: sum(values) / len(values) for kind, values in known.items()}
    return {w.code: float(w.population) if w.population is not None else average.get(w.kind, 1.0) for w in wards}


def coverage(session: Session, *, top: int = 20) -> Coverage:
    wards = all_wards(session)
    points = _open_points(session)
    weights = _weights(wards)
    rows = []
    for ward in wards:
        distances = [rules.distance_km(ward.latitude, ward.longitude, p.latitude, p.longitude) for p in points]
        rows.append(WardCoverage(ward, round(min(distances), 2) if distances else None, weights[ward.code]))
    uncovered = [w for w in rows if not w.covered]
    candidates = []
    for site in wards:
        reach = [
            w
            for w in uncovered
            if rules.distance_km(site.latitude, site.longitude, w.ward.latitude, w.ward.longitude) <= RADIUS_KM
        ]
        if reach:
            candidates.append(Candidate(site, sorted(reach, key=lambda w: w.ward.name)))
    candidates.sort(key=lambda c: (-c.people, -len(c.reaches), c.site.name))
    return Coverage(rows, candidates[:top], len(points))
