"""Fee rules are data: each kind prices a dossier, and a rule that cannot price is refused by name."""

from datetime import date

import pytest

from agents.procedures import fees

DAY = date(2026, 12, 2)


def test_a_fixed_fee_has_its_own_online_price_and_a_delivery_charge():
    rules = {"kind": "fixed", "amount_vnd": 20000, "online_amount_vnd": 10000, "delivery_vnd": 15000}
    assert fees.quote(rules, channel="direct", on=DAY).total_vnd == 20000
    assert fees.quote(rules, channel="online", on=DAY).total_vnd == 10000
    delivered = fees.quote(rules, channel="online", delivery=True, on=DAY)
    assert delivered.total_vnd == 25000
    assert [line.amount_vnd for line in delivered.lines] == [10000, 15000]


def test_a_per_page_fee_counts_pages_copies_and_a_cheaper_rate_from_a_later_page():
    rules = {
        "kind": "per_page",
        "amount_vnd": 2000,
        "page_field": "pages",
        "first_pages": 2,
        "later_page_vnd": 1000,
        "copies_field": "copies",
    }
    assert fees.quote(rules, form={"pages": 1, "copies": 1}, on=DAY).total_vnd == 2000
    assert fees.quote(rules, form={"pages": 5, "copies": 1}, on=DAY).total_vnd == 2 * 2000 + 3 * 1000
    assert fees.quote(rules, form={"pages": 5, "copies": 2}, on=DAY).total_vnd == 2 * (2 * 2000 + 3 * 1000)


def test_an_exemption_holds_on_a_condition_of_the_form():
    within = {"kind": "fixed", "amount_vnd": 5000, "exempt": {"field": "birth", "within_days": 60, "note": "Đúng hạn"}}
    on_time = fees.quote(within, form={"birth": "2026-11-01"}, on=DAY)
    assert (on_time.total_vnd, on_time.exempt, on_time.note) == (0, True, "Đúng hạn")
    assert fees.quote(within, form={"birth": "2026-01-01"}, on=DAY).total_vnd == 5000
    equals = {"kind": "fixed", "amount_vnd": 5000, "exempt": {"field": "group", "equals": "Hộ nghèo", "note": "Miễn"}}
    assert fees.quote(equals, form={"group": "Hộ nghèo"}, on=DAY).total_vnd == 0
    assert fees.quote(equals, form={"group": "Khác"}, on=DAY).total_vnd == 5000


def test_no_fee_is_free():
    assert fees.quote({"kind": "none"}, on=DAY).is_free


@pytest.mark.parametrize("key", ["amount_vnd", "online_amount_vnd", "delivery_vnd"])
def test_a_negative_amount_is_refused_naming_its_key(key):
    rules = {"kind": "fixed", "amount_vnd": 1000, key: -1}
    assert fees.problems(rules) == {f"fee_rules.{key}": "Số tiền không được âm"}


@pytest.mark.parametrize(
    ("rules", "key"),
    [
        ({"kind": "gift"}, "fee_rules.kind"),
        ({"kind": "fixed"}, "fee_rules.amount_vnd"),
        ({"kind": "fixed", "amount_vnd": "1000"}, "fee_rules.amount_vnd"),
        ({"kind": "fixed", "amount_vnd": 1000, "tip": 5}, "fee_rules.tip"),
        ({"kind": "per_page", "amount_vnd": 1000}, "fee_rules.page_field"),
        ({"kind": "per_page", "amount_vnd": 1000, "page_field": "nope"}, "fee_rules.page_field"),
        ({"kind": "fixed", "amount_vnd": 1, "exempt": {"field": "pages", "note": "x"}}, "fee_rules.exempt.condition"),
        ({"kind": "fixed", "amount_vnd": 1, "exempt": {"field": "pages", "equals": 1}}, "fee_rules.exempt.note"),
    ],
)
def test_rules_that_cannot_price_are_refused_by_key(rules, key):
    assert key in fees.problems(rules, {"pages": {"type": "integer", "title": "Số trang"}})


def test_the_seeded_catalogue_prices_every_procedure():
    from agents.procedures.catalogue import PROCEDURES

    for procedure in PROCEDURES:
        assert fees.problems(procedure["fee_rules"], procedure["form_schema"]["properties"]) == {}, procedure["code"]
