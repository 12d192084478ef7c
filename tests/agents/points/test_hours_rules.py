"""A point's week, public holidays and temporary closures, as pure rules (no database)."""

from __future__ import annotations

from datetime import date, time

import pytest

from agents.points import rules

MONDAY = date(2026, 12, 7)


def test_the_week_form_gives_each_day_its_periods_and_a_day_left_blank_is_closed():
    week, errors = rules.parse_week(
        {
            "mon_1_opens": "7:30",
            "mon_1_closes": "11h30",
            "mon_2_opens": "13:30",
            "mon_2_closes": "17:00",
            "sat_1_opens": "08:00",
            "sat_1_closes": "11:00",
        }
    )
    assert errors == {}
    assert week["mon"] == [["07:30", "11:30"], ["13:30", "17:00"]] and week["sat"] == [["08:00", "11:00"]]
    assert week["sun"] == [] and set(week) == set(rules.WEEKDAYS)
    assert rules.week_problems(week) == []


def test_each_wrong_time_is_named_by_its_input():
    _, errors = rules.parse_week(
        {
            "mon_1_opens": "25:00",
            "mon_1_closes": "11:00",
            "tue_1_opens": "09:00",
            "tue_1_closes": "08:00",
            "wed_1_opens": "08:00",
            "wed_1_closes": "",
            "thu_1_opens": "08:00",
            "thu_1_closes": "12:00",
            "thu_2_opens": "11:00",
            "thu_2_closes": "17:00",
        }
    )
    assert errors == {
        "mon_1_opens": "Giờ phải có dạng HH:MM",
        "tue_1_closes": "Giờ đóng phải sau giờ mở",
        "wed_1_closes": "Bắt buộc nhập",
        "thu_2_opens": "Ca sau phải bắt đầu sau khi ca trước kết thúc",
    }


def test_the_summary_groups_days_with_the_same_hours():
    assert rules.summary(rules.USUAL_WEEK) == "T2–T6 07:30–11:30, 13:30–17:00 · T7 07:30–11:30"
    assert rules.summary(None) == ""


def test_a_closure_wins_over_a_holiday_which_wins_over_the_week():
    closure = rules.Closure(MONDAY, MONDAY, "Sửa chữa mặt bằng")
    plan = rules.day_plan(rules.USUAL_WEEK, MONDAY, closures=[closure], holiday="Tết Dương lịch")
    assert (plan.closed_because, plan.detail, plan.periods) == (rules.CLOSED_TEMPORARILY, "Sửa chữa mặt bằng", ())
    plan = rules.day_plan(rules.USUAL_WEEK, MONDAY, holiday="Tết Dương lịch")
    assert (plan.closed_because, plan.detail) == (rules.CLOSED_HOLIDAY, "Tết Dương lịch")
    open_anyway = rules.day_plan(rules.USUAL_WEEK, MONDAY, holiday="Tết Dương lịch", closed_on_public_holidays=False)
    assert open_anyway.is_open_at(time(8, 0)) and not open_anyway.is_open_at(time(12, 0))
    assert not open_anyway.is_open_at(time(17, 0))  # closing time itself is closed
    assert rules.day_plan(rules.USUAL_WEEK, date(2026, 12, 13)).closed_because == rules.CLOSED_WEEKLY  # a Sunday
    assert rules.day_plan(None, MONDAY).closed_because == rules.HOURS_UNPUBLISHED


def test_a_closure_needs_dates_in_order_not_in_the_past_and_a_reason():
    today = MONDAY
    closure, errors = rules.closure_problems("2026-12-08", "2026-12-10", "  Kiểm kê  ", today)
    assert errors == {} and closure == rules.Closure(date(2026, 12, 8), date(2026, 12, 10), "Kiểm kê")
    _, errors = rules.closure_problems("2026-12-01", "2026-11-30", "", today)
    assert errors == {"starts_on": "Không thể tạm đóng cửa cho ngày đã qua", "reason": "Cần ghi lý do tạm đóng cửa"}
    _, errors = rules.closure_problems("2026-12-09", "2026-12-08", "x", today)
    assert errors == {"ends_on": "Ngày mở lại phải từ ngày bắt đầu trở đi"}
    _, errors = rules.closure_problems("", "mai", "x", today)
    assert errors == {"starts_on": "Bắt buộc nhập", "ends_on": "Ngày không hợp lệ"}


def test_distances_are_straight_lines_and_the_box_holds_the_circle():
    # Hoàn Kiếm lake to Cầu Giấy: about 5.6 km as the crow flies.
    assert 5.3 < rules.distance_km(21.0287, 105.8524, 21.0336, 105.7985) < 5.9
    _, high_lat, _, high_lon = rules.bounding_box(21.0, 105.8, 5.0)
    assert rules.distance_km(21.0, 105.8, high_lat, 105.8) == pytest.approx(5.0, abs=0.01)
    assert rules.distance_km(21.0, 105.8, 21.0, high_lon) >= 4.99
    assert rules.in_vietnam(21.0, 105.8) and rules.in_vietnam(16.5, 112.0)  # Hoàng Sa
    assert not rules.in_vietnam(13.75, 100.5)  # Bangkok
    assert not rules.in_vietnam(48.85, 2.35)
