"""The public locator's JSON (`GET /api/v1/public/points`; OpenAPI at /schema)."""

from __future__ import annotations

import uuid

import msgspec

from agents.points.locator import Found


class OpeningPeriodOut(msgspec.Struct):
    opens: str  # "07:30", Hanoi time
    closes: str


class PointNearOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    address: str
    ward: str
    lat: float
    lon: float
    distance_km: float  # straight line (great-circle), not by road
    open_now: bool
    hours_today: list[OpeningPeriodOut]  # empty: closed all day (see the point's page for why)

    @classmethod
    def of(cls, found: Found) -> PointNearOut:
        p = found.point
        return cls(
            id=p.id,
            name=p.name,
            address=p.address,
            ward=p.ward,
            lat=p.latitude,
            lon=p.longitude,
            distance_km=found.distance_km,
            open_now=found.open_now,
            hours_today=[OpeningPeriodOut(a, b) for a, b in found.day.periods],
        )


class PointsNearOut(msgspec.Struct):
    items: list[PointNearOut]
