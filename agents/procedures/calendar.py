"""Working days in Vietnam, and the expected result date of a dossier (ngày hẹn trả kết quả).

A procedure's processing time is a number of working days. Days off are Saturdays,
Sundays and the public holidays of `holidays`' Vietnam calendar, which carries each
year's decreed schedule (Tết, compensatory days, days off swapped for a working Saturday,
listed in its `weekend_workdays`), and on top of it the center's own overrides: the
government decrees each year's Tết and bridge days late, and the package's later years
are rule-based guesses, so the center adds extra days off and extra working days as
they are announced (`CalendarOverrides`; the center keeps them in a table, the caller
passes them in). An override wins over the package.

How a period is counted (Civil Code 2015, art. 147: a period in days starts on the day
after the event): work received on a working day before the afternoon cut-off is
received that day; received at or after the cut-off, or on a day off, it is received on
the next working day. The result is due N working days after the day of receipt; a
same-day procedure (N = 0) is due on the day of receipt itself. Times are read on the
Asia/Ho_Chi_Minh clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

VIETNAM_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = time(15, 0)
MAX_PROCESSING_DAYS = 366  # no procedure takes longer; larger is a data error


@dataclass(frozen=True)
class CalendarOverrides:
    """The center's corrections to the package's calendar."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, days_off: Iterable[date] = (), working_days: Iterable[date] = ()) -> CalendarOverrides:
        return cls(days_off=frozenset(days_off), working_days=frozenset(working_days))

    def __post_init__(self) -> None:
        both = self.days_off & self.working_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"a day cannot be both a day off and a working day: {listed}")


class WorkingCalendar:
    """Vietnam's working days: weekends, public holidays and make-up Saturdays, then the overrides.

    Cheap to make; make one per request or task rather than sharing one between threads,
    since the package fills in each year on its first look-up.
    """

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        # Years are filled in on demand as dates are asked about.
        self._public = holidays.country_holidays("VN", language="vi")

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's Vietnamese name, or None (overrides have no name here)."""
        return self._public.get(day)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides.days_off:
            return False
        if day in self.overrides.working_days:
            return True
        return bool(self._public.is_working_day(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (`start` itself when count is 0)."""
        if count < 0:
            raise ValueError("a number of working days cannot be negative")
        day = start
        for _ in range(count):
            day = self.next_working_day(day)
        return day


def day_of_receipt(received_at: datetime, calendar: WorkingCalendar, cutoff: time = DEFAULT_CUTOFF) -> date:
    """The working day from which a dossier received at `received_at` counts."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must carry its time zone (an aware datetime)")
    local = received_at.astimezone(VIETNAM_TIME)
    day = local.date()
    if calendar.is_working_day(day) and local.time() < cutoff:
        return day
    return calendar.next_working_day(day)


def expected_result_date(
    received_at: datetime,
    processing_working_days: int,
    calendar: WorkingCalendar,
    *,
    cutoff: time = DEFAULT_CUTOFF,
) -> date:
    """The date a citizen can hold the city to, from the moment the dossier was received."""
    if not 0 <= processing_working_days <= MAX_PROCESSING_DAYS:
        raise ValueError(f"processing time must be 0 to {MAX_PROCESSING_DAYS} working days")
    return calendar.add_working_days(day_of_receipt(received_at, calendar, cutoff), processing_working_days)
