"""Procedure (TTHC) catalogue: city-owned reference data, NOT tenant-scoped.

Published by the center, version after version; every partner files against the same catalogue
(each partner only the procedures the center enabled for it: `PartnerProcedure`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agents.procedures import fees
from agents.procedures.calendar import VIETNAM_TIME
from agents.procedures.fees import FeeQuote
from portal.core.db import Base, IdMixin, TimestampMixin, utcnow
from portal.core.tenancy import TenantScoped


class ChargeTiming(str, enum.Enum):
    """When the city collects its charge: before processing, after it, or never."""

    before = "before"
    after = "after"
    none = "none"


def vietnam_today() -> date:
    return utcnow().astimezone(VIETNAM_TIME).date()


class Procedure(IdMixin, TimestampMixin, Base):
    """A procedure's identity (its national code); what it is lives in its versions.

    Every publish adds a `ProcedureVersion`; the one in force today is `current`. A dossier
    keeps the version it was filed under (`Dossier.procedure_version_id`), so the reading
    properties below are for the catalogue as it stands, never for an old dossier.
    """

    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(20), unique=True)  # national code (mã TTHC)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    versions: Mapped[list[ProcedureVersion]] = relationship(
        back_populates="procedure", order_by="ProcedureVersion.number", lazy="selectin"
    )

    def version_on(self, day: date) -> ProcedureVersion | None:
        """The version in force on `day`: the latest published whose effective date has come."""
        in_force = [v for v in self.versions if v.effective_from <= day]
        return max(in_force, key=lambda v: v.number) if in_force else None

    @property
    def current(self) -> ProcedureVersion | None:
        return self.version_on(vietnam_today())

    def _now(self) -> ProcedureVersion:
        """Today's version; for a procedure whose first version is still scheduled, that one (a list that
        names it reads its name; `service.list_published`/`get_published` do not offer it)."""
        version = self.current
        if version is None:
            if not self.versions:
                raise LookupError(f"procedure {self.code} has no version")
            return self.versions[0]
        return version

    # The catalogue as it stands today (pages listing procedures, a draft being typed).
    name = property(lambda self: self._now().name)
    field_code = property(lambda self: self._now().field_code)
    field_name = property(lambda self: self._now().field_name)
    handled_by = property(lambda self: self._now().handled_by)
    processing_days = property(lambda self: self._now().processing_days)
    fee_note = property(lambda self: self._now().fee_note)
    fee_vnd = property(lambda self: self._now().fee_vnd)
    required_documents = property(lambda self: self._now().required_documents)
    form_schema = property(lambda self: self._now().form_schema)


class ProcedureVersion(IdMixin, Base):
    """One published definition of a procedure; never changed once a dossier may have been filed under it.

    `required_documents`: [{"name", "original" (true: the original, false: a copy), "mandatory", "count"}].
    `form_schema`: JSON Schema (draft 2020-12) with Vietnamese titles and the cross-field rules
    under "x-rules" (agents/procedures/rules.py). `fee_rules`: agents/procedures/fees.py.
    """

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "number"),)

    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    field_code: Mapped[str] = mapped_column(String(40))
    field_name: Mapped[str] = mapped_column(String(200))
    handled_by: Mapped[str] = mapped_column(String(200))
    processing_days: Mapped[int] = mapped_column(Integer)  # legal time, in working days
    fee_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fee_note: Mapped[str] = mapped_column(Text, default="")
    city_charges: Mapped[ChargeTiming] = mapped_column(
        Enum(ChargeTiming, native_enum=False, length=16), default=ChargeTiming.none
    )
    required_documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    effective_from: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    change_note: Mapped[str] = mapped_column(Text, default="")

    procedure: Mapped[Procedure] = relationship(back_populates="versions", lazy="joined")

    @property
    def code(self) -> str:
        return self.procedure.code

    def quote(
        self,
        form: dict[str, Any] | None = None,
        *,
        on: date | None = None,
        channel: str = "online",
        delivery: bool = False,
    ) -> FeeQuote:
        """What a dossier filed under this version costs (agent points file online for the citizen)."""
        return fees.quote(
            self.fee_rules or {"kind": "none"},
            form=form,
            channel=channel,
            delivery=delivery,
            on=on or vietnam_today(),
            note=self.fee_note,
        )

    def quote_filed(self, form: dict[str, Any], filed_at: datetime) -> FeeQuote:
        """What a dossier filed at `filed_at` with `form` costs: priced on the day it was filed, in Vietnam."""
        return self.quote(form, on=filed_at.astimezone(VIETNAM_TIME).date())

    @property
    def fee_vnd(self) -> int:
        """The headline fee: one dossier, one page, one copy, no exemption."""
        rules = {k: v for k, v in (self.fee_rules or {"kind": "none"}).items() if k != "exempt"}
        return fees.quote(rules, on=vietnam_today()).total_vnd


class CalendarOverride(Base):
    """A day the center decrees off, or worked, on top of the `holidays` package's Vietnam calendar.

    Center-owned reference data, like the catalogue (not tenant-scoped); read by
    `service.working_calendar` into `calendar.CalendarOverrides`.
    """

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "day_off" or "working_day"
    reason: Mapped[str] = mapped_column(String(300))
    decree: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerProcedure(IdMixin, TenantScoped, Base):
    """A procedure the center enabled for a partner: its points may file it (and may offer it, point by point).

    Partner-owned (row-level security): a partner reads its own list; the center writes it in a network scope.
    """

    __tablename__ = "partner_procedures"
    __table_args__ = (UniqueConstraint("partner_id", "procedure_id"),)

    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"), index=True)
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enabled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
