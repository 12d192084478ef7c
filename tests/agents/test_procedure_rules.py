"""Cross-field rules of a procedure's form ("x-rules"): what JSON Schema cannot say."""

import pytest
from jsonschema import Draft202012Validator

from agents.procedures.catalogue import PROCEDURES
from agents.procedures.models import ProcedureVersion
from agents.procedures.rules import broken_rules, definition_problems
from agents.procedures.service import check_form

STAY = {
    "type": "object",
    "properties": {
        "from_date": {"type": "string", "format": "date"},
        "to_date": {"type": "string", "format": "date"},
        "kind": {"type": "string", "enum": ["Phiếu số 1", "Phiếu số 2"]},
        "purpose": {"type": "string"},
        "employer": {"type": "string"},
    },
    "x-rules": [
        {"rule": "date_order", "before": "from_date", "after": "to_date", "message": "Kết thúc trước khi bắt đầu"},
        {"rule": "required_if", "field": "purpose", "when": "kind", "equals": "Phiếu số 2", "message": "Cần mục đích"},
        {"rule": "required_if", "field": "employer", "when": "to_date", "message": "Cần nơi làm việc"},
    ],
}


def _broken(**data):  # type: ignore[no-untyped-def]
    return broken_rules(STAY, data, {})


def test_an_end_date_before_the_start_date_is_an_error_on_the_end_date():
    assert _broken(from_date="2026-12-10", to_date="2026-12-01", employer="X") == {
        "to_date": "Kết thúc trước khi bắt đầu"
    }
    assert _broken(from_date="2026-12-10", to_date="2026-12-10", employer="X") == {}  # the same day is a day
    assert _broken(from_date="2026-12-10", to_date="2027-01-01", employer="X") == {}


def test_a_strict_order_refuses_the_same_day():
    strict = {**STAY, "x-rules": [{**STAY["x-rules"][0], "strict": True}]}
    assert broken_rules(strict, {"from_date": "2026-12-10", "to_date": "2026-12-10"}, {}) == {
        "to_date": "Kết thúc trước khi bắt đầu"
    }


def test_a_date_order_with_a_date_missing_or_already_wrong_is_left_to_the_schema():
    assert _broken(from_date="2026-12-10") == {}
    assert broken_rules(STAY, {"from_date": "2026-12-10", "to_date": "10/13/2026"}, {"to_date": "Sai"}) == {}
    assert _broken(from_date="2026-12-10", to_date="not a date", employer="X") == {}


def test_a_field_can_be_required_by_another_ones_value_or_presence():
    assert _broken(kind="Phiếu số 2") == {"purpose": "Cần mục đích"}
    assert _broken(kind="Phiếu số 2", purpose="Xin việc") == {}
    assert _broken(kind="Phiếu số 1") == {}
    assert _broken(from_date="2026-12-01", to_date="2026-12-31") == {"employer": "Cần nơi làm việc"}


def test_rules_are_checked_with_the_schema_and_reported_on_the_field_with_nothing_else_lost():
    temporary_residence = next(p for p in PROCEDURES if p["code"] == "1.004194")
    procedure = ProcedureVersion(form_schema=temporary_residence["form_schema"])
    data, errors = check_form(
        procedure, {"temporary_address": "5 Kim Mã", "from_date": "2026-12-10", "to_date": "2026-12-01"}
    )
    assert errors == {"to_date": "Ngày kết thúc tạm trú không được trước ngày bắt đầu"}
    assert data["to_date"] == "2026-12-01"
    _, fine = check_form(
        procedure, {"temporary_address": "5 Kim Mã", "from_date": "2026-12-01", "to_date": "2027-05-31"}
    )
    assert fine == {}


def test_json_schema_validators_take_the_rules_as_an_unknown_keyword():
    Draft202012Validator.check_schema(STAY)
    assert list(Draft202012Validator(STAY).iter_errors({"from_date": "2026-12-10", "to_date": "2026-12-01"})) == []


def test_every_seeded_procedures_rules_can_be_checked():
    for procedure in PROCEDURES:
        assert definition_problems(procedure["form_schema"]) == [], procedure["code"]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"rule": "later_than", "before": "from_date", "after": "to_date", "message": "m"}, "unknown rule"),
        ({"rule": "date_order", "before": "from_date", "after": "until", "message": "m"}, "not a field"),
        ({"rule": "date_order", "before": "from_date", "after": "purpose", "message": "m"}, "is not a date"),
        ({"rule": "date_order", "before": "from_date", "after": "to_date"}, "needs the message"),
        ({"rule": "date_order", "before": "from_date", "after": "to_date", "message": "m", "sort": 1}, "unknown key"),
        ({"rule": "date_order", "before": "from_date", "after": "to_date", "message": "m", "strict": "y"}, "strict"),
        ({"rule": "required_if", "field": "purpose", "when": "reason", "message": "m"}, "not a field"),
    ],
)
def test_a_rule_that_cannot_be_checked_is_named_with_what_is_wrong(rule, problem):
    problems = definition_problems({**STAY, "x-rules": [rule]})
    assert len(problems) == 1 and problem in problems[0]
