"""How a text becomes SMS segments (3GPP TS 23.038 alphabets, concatenated SMS).

A single SMS carries 140 bytes: 160 characters of the GSM 7-bit default
alphabet, or 70 UTF-16 code units in UCS-2.  A longer text is split into parts
that each lose 6 bytes to the concatenation header: 153 GSM-7 septets or 67
UCS-2 units per part.  Characters of the GSM-7 extension table (``{ } [ ] ~
\\ | ^ €`` and form feed) take two septets, and an escape pair is never split
across two parts; neither is a UTF-16 surrogate pair.

Vietnamese with diacritics needs UCS-2: only a few accented letters (à è é ì ò
ù) exist in the GSM-7 alphabet, ``ả ạ ă â đ ơ ư …`` do not.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7 = "GSM7"
UCS2 = "UCS2"

SINGLE_CAPACITY = {GSM7: 160, UCS2: 70}
PART_CAPACITY = {GSM7: 153, UCS2: 67}

assert len(GSM7_BASIC) == 128, "the GSM-7 default alphabet has 128 positions"


@dataclass(frozen=True)
class Segmentation:
    encoding: str
    #: Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text.
    units: int
    segments: int


def needs_ucs2(text: str) -> bool:
    return any(char not in _BASIC and char not in _EXTENSION for char in text)


def _cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def segment(text: str) -> Segmentation:
    """The encoding a gateway picks for ``text`` and how many parts it is sent as."""
    encoding = UCS2 if needs_ucs2(text) else GSM7
    costs = [_cost(char, encoding) for char in text]
    units = sum(costs)
    if units <= SINGLE_CAPACITY[encoding]:
        return Segmentation(encoding, units, 1 if units else 0)
    capacity = PART_CAPACITY[encoding]
    segments, used = 1, 0
    for cost in costs:
        if used + cost > capacity:  # never split an escape or surrogate pair
            segments += 1
            used = 0
        used += cost
    return Segmentation(encoding, units, segments)
