"""What a rating is made of, and how each answer reads in the official survey's terms (pure).

Two kinds per dossier, each given once: `counter` (the service at the counter, open right
after filing) and `result` (the whole handling, open once the city reached status 9 or 10).
Every criterion maps onto the SIPAS survey's three levels, so figures can be reported as
"very satisfied / satisfied / not satisfied" (decision 0030).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

# The receipt's link works this long after filing; each kind is open for its own window.
LINK_VALID_DAYS = 180
COUNTER_WINDOW_DAYS = 14  # counter rating: from filing
RESULT_WINDOW_DAYS = 60  # result rating: from the day the city finished
COMMENT_MAX = 1000


class RatingKind(str, enum.Enum):
    counter = "counter"
    result = "result"


class Sipas(str, enum.Enum):
    """The official satisfaction survey's three levels."""

    very_satisfied = "very_satisfied"
    satisfied = "satisfied"
    not_satisfied = "not_satisfied"


class Timeliness(str, enum.Enum):
    """Was it done within the time promised (the receipt's date; 15 minutes at the counter)?"""

    earlier = "earlier"
    on_time = "on_time"
    late = "late"


# Had to come back: 0 = never, 1 = once, 2 = twice or more.
CAME_BACK_CHOICES = (0, 1, 2)


def sipas_of_stars(stars: int) -> Sipas:
    if stars >= 5:
        return Sipas.very_satisfied
    if stars >= 3:
        return Sipas.satisfied
    return Sipas.not_satisfied


def sipas_of_timeliness(answer: Timeliness) -> Sipas:
    return {
        Timeliness.earlier: Sipas.very_satisfied,
        Timeliness.on_time: Sipas.satisfied,
        Timeliness.late: Sipas.not_satisfied,
    }[answer]


def sipas_of_came_back(times: int) -> Sipas:
    return Sipas.very_satisfied if times == 0 else Sipas.satisfied if times == 1 else Sipas.not_satisfied


def window_closes(kind: RatingKind, submitted_at: datetime, done_at: datetime | None) -> datetime | None:
    """When this kind of rating stops being accepted (None: not open yet)."""
    if kind is RatingKind.counter:
        return submitted_at + timedelta(days=COUNTER_WINDOW_DAYS)
    if done_at is None:
        return None
    return done_at + timedelta(days=RESULT_WINDOW_DAYS)
