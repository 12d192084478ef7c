"""Pure rules about API clients: scope lists and which scopes need an agent point. No database."""

from __future__ import annotations

CLIENT_ID_PREFIX = "pc_"
# Scopes that act on dossiers need an agent point: the client files and reads
# there, exactly like a member of staff assigned to that point.
POINT_SCOPES = frozenset({"dossiers:write", "dossiers:read", "payments"})


def parse_scopes(raw: str | None) -> list[str]:
    """RFC 6749 §3.3: a space-delimited list; order and repeats do not matter."""
    seen: list[str] = []
    for item in (raw or "").split():
        if item not in seen:
            seen.append(item)
    return seen
