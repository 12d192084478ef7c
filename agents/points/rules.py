"""Pure rules about agent points: what a registration must say, where a point may be. No database."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from portal.core.i18n import N_

HANOI_BOUNDS = (20.5, 21.4, 105.3, 106.1)  # lat min, lat max, lon min, lon max
FIELDS = ("code", "name", "address", "ward", "latitude", "longitude", "opening_hours")
REQUIRED = ("code", "name", "address", "ward", "latitude", "longitude")


def check_point(fields: dict[str, str]) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """Cleaned values, the coordinates as numbers, and field errors (Vietnamese, keyed by input name)."""
    values = {k: (fields.get(k) or "").strip() for k in FIELDS}
    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not values[name]:
            errors[name] = N_("Bắt buộc nhập")
    coords: dict[str, float] = {}
    for name, low, high in (
        ("latitude", HANOI_BOUNDS[0], HANOI_BOUNDS[1]),
        ("longitude", HANOI_BOUNDS[2], HANOI_BOUNDS[3]),
    ):
        if values[name]:
            try:
                coords[name] = float(values[name].replace(",", "."))
                if not low <= coords[name] <= high:
                    errors[name] = N_("Tọa độ nằm ngoài Hà Nội")
            except ValueError:
                errors[name] = N_("Phải là số")
    return values, coords, errors


# --- Where: straight-line distances, the boxes the locator searches ----------------------------

# A box around Vietnam's territory, the Hoàng Sa and Trường Sa archipelagos included: the public
# locator refuses coordinates outside it (422); points themselves must lie in HANOI_BOUNDS.
VIETNAM_BOUNDS = (8.0, 23.5, 102.0, 117.5)  # lat min, lat max, lon min, lon max
EARTH_RADIUS_KM = 6371.0088  # the mean radius: straight-line (great-circle) distances, not by road
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


def in_vietnam(latitude: float, longitude: float) -> bool:
    low_lat, high_lat, low_lon, high_lon = VIETNAM_BOUNDS
    return low_lat <= latitude <= high_lat and low_lon <= longitude <= high_lon


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle ("as the crow flies") distance between two points, in km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lon box holding every point within `radius_km` of the centre (it holds more: the corners)."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = radius_km / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(latitude)), 0.01))
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


# --- When: the week, public holidays, temporary closures -------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DAY_LABELS = {
    "mon": N_("Thứ Hai"),
    "tue": N_("Thứ Ba"),
    "wed": N_("Thứ Tư"),
    "thu": N_("Thứ Năm"),
    "fri": N_("Thứ Sáu"),
    "sat": N_("Thứ Bảy"),
    "sun": N_("Chủ Nhật"),
}
SHORT_LABELS = {"mon": "T2", "tue": "T3", "wed": "T4", "thu": "T5", "fri": "T6", "sat": "T7", "sun": "CN"}
SHIFTS = 2  # at most two opening periods a day (morning, afternoon)
MAX_CLOSURE_DAYS = 366
# The demo's and a new point's usual week: weekday mornings and afternoons, Saturday morning.
USUAL_WEEK: dict[str, list[list[str]]] = {
    **{day: [["07:30", "11:30"], ["13:30", "17:00"]] for day in WEEKDAYS[:5]},
    "sat": [["07:30", "11:30"]],
    "sun": [],
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:h.]([0-5]\d)$")

Week = dict[str, list[list[str]]]


def _clock(text: str) -> str | None:
    match = _CLOCK.match(text.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else None


def parse_week(fields: dict[str, str]) -> tuple[Week, dict[str, str]]:
    """The week from the hours form (`mon_1_opens`, `mon_1_closes`, `mon_2_opens`, ...), and field errors.

    A day with no period is closed that day. Each error is keyed by the input it is about.
    """
    week: Week = {}
    errors: dict[str, str] = {}
    for day in WEEKDAYS:
        periods: list[list[str]] = []
        for shift in range(1, SHIFTS + 1):
            names = (f"{day}_{shift}_opens", f"{day}_{shift}_closes")
            raw = [(fields.get(name) or "").strip() for name in names]
            if not any(raw):
                continue
            clocks = [_clock(value) if value else None for value in raw]
            bad = False
            for name, value, clock in zip(names, raw, clocks, strict=True):
                if not value:
                    errors[name] = N_("Bắt buộc nhập")
                    bad = True
                elif clock is None:
                    errors[name] = N_("Giờ phải có dạng HH:MM")
                    bad = True
            if bad:
                continue
            opens, closes = clocks[0], clocks[1]
            assert opens is not None and closes is not None
            if closes <= opens:
                errors[names[1]] = N_("Giờ đóng phải sau giờ mở")
            elif periods and opens < periods[-1][1]:
                errors[names[0]] = N_("Ca sau phải bắt đầu sau khi ca trước kết thúc")
            else:
                periods.append([opens, closes])
        week[day] = periods
    return week, errors


def week_problems(week: object) -> list[str]:
    """What is wrong with a stored week (for data that does not come through the form)."""
    if not isinstance(week, dict) or set(week) != set(WEEKDAYS):
        return ["the week must name each of mon..sun"]
    fields = {}
    for day, periods in week.items():
        if not isinstance(periods, list) or len(periods) > SHIFTS:
            return [f"{day}: at most {SHIFTS} periods"]
        for shift, period in enumerate(periods, start=1):
            if not (isinstance(period, list) and len(period) == 2 and all(isinstance(v, str) for v in period)):
                return [f"{day}: a period is [opens, closes]"]
            fields[f"{day}_{shift}_opens"], fields[f"{day}_{shift}_closes"] = period
    parsed, errors = parse_week(fields)
    return [f"{name}: {message}" for name, message in errors.items()] or (
        [] if parsed == week else ["the week is not in its normal form (HH:MM)"]
    )


def summary(week: Week | None) -> str:
    """One line for receipts and lists: "T2–T6 07:30–11:30, 13:30–17:00 · T7 07:30–11:30"."""
    if not week:
        return ""
    groups: list[tuple[list[str], list[list[str]]]] = []
    for day in WEEKDAYS:
        periods = week.get(day) or []
        if groups and groups[-1][1] == periods:
            groups[-1][0].append(day)
        else:
            groups.append(([day], periods))
    parts = []
    for days, periods in groups:
        if not periods:
            continue
        label = SHORT_LABELS[days[0]] if len(days) == 1 else f"{SHORT_LABELS[days[0]]}–{SHORT_LABELS[days[-1]]}"
        parts.append(label + " " + ", ".join(f"{a}–{b}" for a, b in periods))
    return " · ".join(parts)


def _day(text: str) -> date | None:
    """A date typed as yyyy-mm-dd (a date picker) or dd/mm/yyyy."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
            d, m, y = (int(part) for part in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Closure:
    starts_on: date
    ends_on: date
    reason: str


def closure_problems(starts_on: str, ends_on: str, reason: str, today: date) -> tuple[Closure | None, dict[str, str]]:
    """A temporary closure from the form, or the errors naming its fields."""
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        day = _day(value)
        if day is None:
            errors[name] = N_("Ngày không hợp lệ") if value.strip() else N_("Bắt buộc nhập")
        else:
            days[name] = day
    if not reason.strip():
        errors["reason"] = N_("Cần ghi lý do tạm đóng cửa")
    elif len(reason.strip()) > 300:
        errors["reason"] = N_("Quá dài")
    if "starts_on" in days and days["starts_on"] < today:
        errors["starts_on"] = N_("Không thể tạm đóng cửa cho ngày đã qua")
    if len(days) == 2 and "starts_on" not in errors:
        if days["ends_on"] < days["starts_on"]:
            errors["ends_on"] = N_("Ngày mở lại phải từ ngày bắt đầu trở đi")
        elif (days["ends_on"] - days["starts_on"]).days >= MAX_CLOSURE_DAYS:
            errors["ends_on"] = N_("Tạm đóng cửa tối đa một năm")
    if errors:
        return None, errors
    return Closure(days["starts_on"], days["ends_on"], reason.strip()), {}


@dataclass(frozen=True)
class DayPlan:
    """A point's opening periods on one day, or why it is closed that day."""

    periods: tuple[tuple[str, str], ...]
    closed_because: str | None = None  # a Vietnamese msgid (translate at the edge)
    detail: str = ""  # the holiday's name or the closure's reason

    def is_open_at(self, clock: time) -> bool:
        now = clock.strftime("%H:%M")
        return any(opens <= now < closes for opens, closes in self.periods)


CLOSED_HOLIDAY = N_("Nghỉ lễ")
CLOSED_TEMPORARILY = N_("Tạm đóng cửa")
CLOSED_WEEKLY = N_("Không mở cửa hôm nay")
HOURS_UNPUBLISHED = N_("Chưa công bố giờ mở cửa")


def day_plan(
    week: Week | None,
    day: date,
    *,
    closures: Sequence[Closure] = (),
    holiday: str | None = None,
    closed_on_public_holidays: bool = True,
) -> DayPlan:
    """When the point is open on `day`: a closure wins, then a public holiday, then its week."""
    for closure in closures:
        if closure.starts_on <= day <= closure.ends_on:
            return DayPlan((), CLOSED_TEMPORARILY, closure.reason)
    if holiday and closed_on_public_holidays:
        return DayPlan((), CLOSED_HOLIDAY, holiday)
    if week is None:
        return DayPlan((), HOURS_UNPUBLISHED)
    periods = tuple((a, b) for a, b in week.get(WEEKDAYS[day.weekday()]) or [])
    if not periods:
        return DayPlan((), CLOSED_WEEKLY)
    return DayPlan(periods)
