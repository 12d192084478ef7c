"""Vietnamese mobile numbers as the gateway accepts them.

Since the 2018 renumbering every Vietnamese mobile number has 10 digits in
national form, starting 03, 05, 07, 08 or 09.  The gateway also accepts the
international forms ``84…`` and ``+84…`` and separators (space, dot, dash,
parentheses), and works internally with the MSISDN ``84xxxxxxxxx``.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[ .\-()]")
_NATIONAL = re.compile(r"0([35789][0-9]{8})")
_INTERNATIONAL = re.compile(r"\+?84([35789][0-9]{8})")


class InvalidPhone(ValueError):
    """The text is not a Vietnamese mobile number."""


def normalise_msisdn(raw: str) -> str:
    """``0912 345 678``, ``84912345678`` or ``+84 912 345 678`` -> ``84912345678``."""
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact:
        raise InvalidPhone("empty phone number")
    match = _NATIONAL.fullmatch(compact) or _INTERNATIONAL.fullmatch(compact)
    if match is None:
        if compact.lstrip("+").isdigit():
            raise InvalidPhone(
                "not a Vietnamese mobile number: expected 10 digits starting 03, 05, 07, 08 or 09, or 84/+84 followed by 9 digits"
            )
        raise InvalidPhone("a phone number contains only digits, an optional leading '+' and separators")
    return "84" + match.group(1)
