"""The city's statuses follow a transition table (no database)."""

import pytest

from agents.dossiers.models import CityStatus as S
from agents.dossiers.rules import CITY_TRANSITIONS, may_follow

# Every flow the city's one-stop system produces (its simulator: simulators/city/engine.py).
LEGAL_FLOWS = {
    "result returned": [1, 2, 4, 9, 10],
    "refused at intake": [1, 3],
    "additional documents": [1, 2, 4, 5, 4, 9, 10],
    "fee during processing": [1, 2, 4, 6, 4, 9, 10],
    "fee after intake": [1, 2, 6, 4, 9, 10],
    "withdrawn after intake": [1, 2, 7],
    "withdrawn while new": [1, 7],
    "withdrawn waiting for documents": [1, 2, 4, 5, 7],
    "stopped": [1, 2, 4, 8],
    "stopped without documents": [1, 2, 4, 5, 8],
    "stopped without payment": [1, 2, 4, 6, 8],
}


@pytest.mark.parametrize("flow", sorted(LEGAL_FLOWS))
def test_every_flow_of_the_city_is_allowed_report_by_report(flow):
    current = None
    for seq, status in enumerate(LEGAL_FLOWS[flow], start=1):
        assert may_follow(current, seq - 1, S(status), seq), (flow, current, status)
        current = S(status)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (10, 3),  # a finished dossier moved backwards: the bug this table fixes
        (10, 4),
        (9, 4),
        (3, 2),
        (7, 4),
        (8, 9),
        (2, 9),  # no result without processing
        (1, 4),
        (4, 4),
        (6, 7),
        (None, 2),  # the first report is "new"
    ],
)
def test_an_impossible_next_status_is_refused(before, after):
    current = S(before) if before else None
    seq = 3 if before else 0
    assert not may_follow(current, seq, S(after), seq + 1)


def test_with_reports_still_missing_in_between_a_status_needs_only_to_be_reachable():
    # Delivered out of order: 4 (seq 3) arrives before 2 (seq 2); 9 (seq 5) before 4 (seq 4).
    assert may_follow(None, 0, S.processing, 3)
    assert may_follow(S.processing, 3, S.processed, 5)
    assert may_follow(S.received, 2, S.returned, 5)
    assert not may_follow(S.returned, 5, S.refused, 8)  # nothing follows a final status, gap or not
    assert not may_follow(S.processed, 4, S.supplement_requested, 7)


def test_the_final_statuses_lead_nowhere_and_every_status_has_a_row():
    assert set(CITY_TRANSITIONS) == {None, *S}
    assert {s for s, nxt in CITY_TRANSITIONS.items() if s is not None and not nxt} == {
        S.refused,
        S.withdrawn,
        S.stopped,
        S.returned,
    }
    assert all(s.is_final for s, nxt in CITY_TRANSITIONS.items() if s is not None and not nxt)
