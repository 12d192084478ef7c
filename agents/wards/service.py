"""Hanoi's communes and wards: look-ups, the schematic map, and the population the center imports."""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.policy import Permission
from agents.staff.actor import Actor
from agents.wards import rules
from agents.wards.models import Ward
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import ValidationFailed

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMATIC = DATA_DIR / "hanoi_wards_schematic.geojson"


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


def _key(text: str) -> str:
    """Names compared the way people type them: case and spacing ignored, and a tone mark counted
    once per word wherever it sits (Hòa = Hoà), in any Unicode normal form."""
    words = []
    for word in unicodedata.normalize("NFD", text).casefold().split():
        tones = "".join(sorted(c for c in word if c in _TONES))
        words.append("".join(c for c in word if c not in _TONES) + tones)
    return " ".join(words)


def all_wards(session: Session) -> list[Ward]:
    return list(session.scalars(select(Ward).order_by(Ward.name)))


def find_ward(session: Session, text: str) -> Ward | None:
    """A ward by its code ("00070") or its full name ("Phường Hoàn Kiếm")."""
    text = (text or "").strip()
    if not text:
        return None
    by_code = session.get(Ward, text)
    if by_code is not None:
        return by_code
    wanted = _key(text)
    return next((w for w in all_wards(session) if _key(w.name) == wanted), None)


@lru_cache(maxsize=1)
def schematic() -> dict[str, Any]:
    """The wards' schematic cells (a diagram, not legal boundaries; see data/SOURCE.md)."""
    data: dict[str, Any] = json.loads(SCHEMATIC.read_text(encoding="utf-8"))
    return data


def import_population(session: Session, actor: Actor, text: str, source: str) -> int:
    """Set wards' population from a CSV (code, population): all rows or none, each bad row named."""
    policy.require(actor, Permission.manage_wards)
    known = {w.code: w for w in all_wards(session)}
    rows, errors = rules.parse_population(text, set(known))
    source = source.strip()
    if not source:
        errors = {"source": rules.SOURCE_REQUIRED, **errors}
    elif len(source) > 200:
        errors = {"source": rules.TOO_LONG, **errors}
    if errors:
        raise ValidationFailed("Tệp dân số có dòng chưa hợp lệ; chưa lưu dòng nào", field_errors=errors)
    now = utcnow()
    for code, population in rows.items():
        ward = known[code]
        ward.population, ward.population_source, ward.population_updated_at = population, source, now
    audit.record(session, "wards.population_imported", "ward", None, detail={"rows": len(rows), "source": source})
    return len(rows)


def _short(name: str) -> str:
    for prefix in ("Phường ", "Xã "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def ward_in_address(session: Session, address: str) -> Ward | None:
    """The ward an address names ("12 Hàng Bài, Hoàn Kiếm"), the longest name found in it."""
    text = f" {_key(address.replace(',', ' ').replace('.', ' '))} "
    if not text.strip():
        return None
    best: Ward | None = None
    for ward in all_wards(session):
        short = f" {_key(_short(ward.name))} "
        if short in text and (best is None or len(_short(ward.name)) > len(_short(best.name))):
            best = ward
    return best
