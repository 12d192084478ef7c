"""Pure rules about agent points: what a registration must say, where a point may be. No database."""

from __future__ import annotations

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
