"""Ward: one of Hanoi's 126 communes and wards since 1 July 2025 (reference data, not tenant-scoped).

The rows come from the committed data file `agents/wards/data/hanoi_wards.csv` (see SOURCE.md
there), loaded by migration 0012. Population is the center's own import; no package has it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base


class Ward(Base):
    __tablename__ = "wards"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)  # national statistics office code
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "phuong" (urban ward) or "xa" (commune)
    latitude: Mapped[float] = mapped_column(Float)  # centroid, WGS 84
    longitude: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    # Where the population figure comes from: "demo" for the demo seed's made-up values,
    # otherwise what the center named when it imported it (e.g. a resolution's number).
    population_source: Mapped[str | None] = mapped_column(String(200))
    population_updated_at: Mapped[datetime | None] = mapped_column()
