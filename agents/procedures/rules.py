"""Cross-field rules of a procedure's form: what JSON Schema cannot say. Pure, no database.

The rules are part of the procedure's definition: they sit inside its form schema
under "x-rules" (JSON Schema validators ignore keywords they do not know), so a
procedure stays one document and needs no column of its own. Each rule is a small
declarative object, with the message people see when it is broken:

    {"rule": "date_order", "before": "from_date", "after": "to_date", "message": "..."}
        `after` may not be earlier than `before` (add "strict": true to refuse the same day too)
    {"rule": "required_if", "field": "x", "when": "y", "message": "..."}
        `field` is required once `when` has a value
    {"rule": "required_if", "field": "x", "when": "y", "equals": "Phiếu số 2", "message": "..."}
        `field` is required when `when` has exactly that value

A broken rule's message goes on the field it names (`after`, `field`). The browser
checks the same rules before the form is sent (templates/static/form-rules.js); the
server checks them again here, after the JSON Schema, on fields that passed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

RULES_KEY = "x-rules"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# For each kind: the fields it names, which of them get the error, and which must be dates.
_FIELDS = {"date_order": ("before", "after"), "required_if": ("field", "when")}
_ERROR_ON = {"date_order": "after", "required_if": "field"}
_DATES = {"date_order": ("before", "after"), "required_if": ()}
_OPTIONS = {"date_order": {"strict"}, "required_if": {"equals"}}


def rules_of(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(schema.get(RULES_KEY, []))


def definition_problems(schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with a form schema's rules (empty when they can be checked)."""
    properties = schema.get("properties", {})
    rules = schema.get(RULES_KEY, [])
    if not isinstance(rules, list):
        return [f"{RULES_KEY} must be a list"]
    problems = []
    for index, rule in enumerate(rules):
        where = f"{RULES_KEY}[{index}]"
        kind = rule.get("rule") if isinstance(rule, dict) else None
        if kind not in _FIELDS:
            problems.append(f"{where}: unknown rule {kind!r} (known: {', '.join(_FIELDS)})")
            continue
        allowed = {"rule", "message", *_FIELDS[kind], *_OPTIONS[kind]}
        problems += [f"{where}: unknown key {key!r}" for key in sorted(set(rule) - allowed)]
        if not isinstance(rule.get("message"), str) or not rule["message"].strip():
            problems.append(f"{where}: a rule needs the message people see")
        for role in _FIELDS[kind]:
            name = rule.get(role)
            if name not in properties:
                problems.append(f"{where}: {role} names {name!r}, which is not a field of the form")
            elif role in _DATES[kind] and properties[name].get("format") != "date":
                problems.append(f"{where}: {role} field {name!r} is not a date")
        if kind == "date_order" and not isinstance(rule.get("strict", False), bool):
            problems.append(f"{where}: strict must be true or false")
    return problems


def broken_rules(schema: Mapping[str, Any], data: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, str]:
    """Field errors of the rules `data` breaks; fields that already have an error are left to it."""
    broken: dict[str, str] = {}
    for rule in rules_of(schema):
        kind = rule["rule"]
        if any(rule[role] in errors for role in _FIELDS[kind]):
            continue
        if not _holds(kind, rule, data):
            broken.setdefault(rule[_ERROR_ON[kind]], rule["message"])
    return broken


def _holds(kind: str, rule: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    if kind == "date_order":
        before, after = _date(data.get(rule["before"])), _date(data.get(rule["after"]))
        if before is None or after is None:
            return True  # nothing to compare: whether they are required is the schema's business
        return after > before if rule.get("strict", False) else after >= before
    if kind == "required_if":
        when = data.get(rule["when"])
        if not _filled(when) or ("equals" in rule and str(when) != str(rule["equals"])):
            return True
        return _filled(data.get(rule["field"]))
    raise ValueError(f"unknown rule {kind!r}")


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
