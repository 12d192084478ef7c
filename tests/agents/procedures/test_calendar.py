"""Working days and expected result dates, against Vietnam's real 2026 calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from agents.procedures.calendar import (
    VIETNAM_TIME,
    CalendarOverrides,
    WorkingCalendar,
    day_of_receipt,
    expected_result_date,
)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on the Hanoi clock."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TIME)


def working_days_in(calendar: WorkingCalendar, first: date, last: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if calendar.is_working_day(d)]


def test_tet_2026_is_five_days_off_from_monday_16_to_friday_20_february() -> None:
    calendar = WorkingCalendar()
    assert working_days_in(calendar, date(2026, 2, 13), date(2026, 2, 23)) == [date(2026, 2, 13), date(2026, 2, 23)]
    assert calendar.holiday_name(date(2026, 2, 17)) == "Tết Nguyên Đán"
    assert len(working_days_in(calendar, date(2026, 2, 1), date(2026, 2, 28))) == 15


def test_the_decreed_2026_days_off_and_the_working_saturday() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 4, 27))  # Giỗ Tổ falls on Sunday 26 April: Monday off
    assert not calendar.is_working_day(date(2026, 11, 24))  # Ngày Văn hóa Việt Nam, new from 2026
    assert not calendar.is_working_day(date(2026, 8, 31))  # off, in exchange for ...
    assert calendar.is_working_day(date(2026, 8, 22))  # ... this Saturday, a working day
    assert not calendar.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert not calendar.is_working_day(date(2026, 9, 2))  # Quốc khánh


def test_a_make_up_saturday_is_known_even_when_it_is_the_first_day_asked_about() -> None:
    # holidays loads a year on first look-up; the swap must be known from the very first question.
    assert WorkingCalendar().is_working_day(date(2026, 8, 22))


def test_work_received_before_the_cut_off_counts_from_that_day_after_it_from_the_next_working_day() -> None:
    calendar = WorkingCalendar()
    assert day_of_receipt(at(2026, 3, 10, 14, 59), calendar) == date(2026, 3, 10)
    assert day_of_receipt(at(2026, 3, 10, 15, 0), calendar) == date(2026, 3, 11)
    assert day_of_receipt(at(2026, 2, 13, 16, 30), calendar) == date(2026, 2, 23)  # Friday before Tết
    assert day_of_receipt(at(2026, 3, 15, 9, 0), calendar) == date(2026, 3, 16)  # a Sunday counts from Monday
    assert day_of_receipt(at(2026, 3, 10, 10, 0), calendar, cutoff=time(9, 30)) == date(2026, 3, 11)


def test_the_cut_off_is_read_on_the_hanoi_clock() -> None:
    calendar = WorkingCalendar()
    # 07:30 UTC is 14:30 in Hanoi, 08:30 UTC is 15:30.
    assert day_of_receipt(datetime(2026, 3, 10, 7, 30, tzinfo=UTC), calendar) == date(2026, 3, 10)
    assert day_of_receipt(datetime(2026, 3, 10, 8, 30, tzinfo=UTC), calendar) == date(2026, 3, 11)
    # 18:00 UTC on Monday is already Tuesday 01:00 in Hanoi.
    assert day_of_receipt(datetime(2026, 3, 9, 18, 0, tzinfo=UTC), calendar) == date(2026, 3, 10)
    with pytest.raises(ValueError, match="time zone"):
        day_of_receipt(datetime(2026, 3, 10, 10, 0), calendar)


def test_a_same_day_procedure_is_due_on_the_day_of_receipt() -> None:
    calendar = WorkingCalendar()
    assert expected_result_date(at(2026, 3, 10, 9, 0), 0, calendar) == date(2026, 3, 10)
    assert expected_result_date(at(2026, 3, 10, 15, 30), 0, calendar) == date(2026, 3, 11)


def test_processing_days_count_from_the_day_after_receipt_over_weekends_and_holidays() -> None:
    calendar = WorkingCalendar()
    assert expected_result_date(at(2026, 3, 9, 10, 0), 3, calendar) == date(2026, 3, 12)  # Mon → Thu
    assert expected_result_date(at(2026, 3, 12, 10, 0), 3, calendar) == date(2026, 3, 17)  # Thu → Tue
    assert expected_result_date(at(2026, 2, 12, 10, 0), 2, calendar) == date(2026, 2, 23)  # over Tết
    assert expected_result_date(at(2026, 4, 24, 10, 0), 1, calendar) == date(2026, 4, 28)  # over Giỗ Tổ's Monday
    assert expected_result_date(at(2026, 8, 21, 10, 0), 3, calendar) == date(2026, 8, 25)  # Sat 22 Aug works
    assert expected_result_date(at(2026, 8, 28, 10, 0), 1, calendar) == date(2026, 9, 3)  # 31 Aug, 1–2 Sep off
    assert expected_result_date(at(2026, 11, 23, 16, 0), 1, calendar) == date(2026, 11, 26)  # cut-off, then 24 Nov


def test_the_centers_overrides_win_over_the_package() -> None:
    # Say the government later decrees Friday 2 Jan 2026 a bridge day, swapped for Saturday 10 Jan.
    overrides = CalendarOverrides.of(days_off=[date(2026, 1, 2)], working_days=[date(2026, 1, 10)])
    plain, corrected = WorkingCalendar(), WorkingCalendar(overrides)
    assert plain.is_working_day(date(2026, 1, 2)) and not corrected.is_working_day(date(2026, 1, 2))
    assert not plain.is_working_day(date(2026, 1, 10)) and corrected.is_working_day(date(2026, 1, 10))
    received = at(2025, 12, 31, 10, 0)
    assert expected_result_date(received, 1, plain) == date(2026, 1, 2)
    assert expected_result_date(received, 1, corrected) == date(2026, 1, 5)
    assert expected_result_date(at(2026, 1, 9, 10, 0), 1, corrected) == date(2026, 1, 10)
    # An override can also take back a day the package gets wrong for a far year.
    assert WorkingCalendar(CalendarOverrides.of(working_days=[date(2026, 2, 20)])).is_working_day(date(2026, 2, 20))


def test_impossible_input_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        CalendarOverrides.of(days_off=[date(2026, 5, 4)], working_days=[date(2026, 5, 4)])
    with pytest.raises(ValueError):
        expected_result_date(at(2026, 3, 10, 9, 0), -1, WorkingCalendar())
    with pytest.raises(ValueError):
        expected_result_date(at(2026, 3, 10, 9, 0), 10_000, WorkingCalendar())
