"""Rate limits on the doors anyone can knock on: `/track`, `/login` and `/api/oauth/token`.

Each is limited by source (the client's address) and by target (the tracking
code, the email, the client id), per window, with the limits from settings
(`rate_limits`). The counters are rows in the database (portal/core/throttle.py),
so every web process counts against the same budget. Over a limit: 429 with
`Retry-After` (whole seconds until the window ends). The refusal is audited once
per source, door and target in the audit log's tally window; repeats are counted.

Call `check` first thing in the handler, before the request's own unit of work
is used: the counters are written in a short unit of their own.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar.connection import ASGIConnection

from portal.auth.security_events import record_security_event
from portal.auth.session import client_ip
from portal.core import throttle
from portal.core.db import unit_of_work
from portal.core.errors import DomainError
from portal.core.i18n import Message
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

Door = Literal["track", "login", "token"]


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(Message("Quá nhiều yêu cầu; vui lòng thử lại sau %(seconds)s giây", seconds=retry_after))
        self.retry_after = retry_after


def check(request: ASGIConnection[Any, Any, Any, Any], door: Door, target: str | None) -> None:
    """Count this request against the door's budgets; raise RateLimited when one is spent."""
    limits = get_settings().rate_limits
    window = limits.window_seconds
    source = client_ip(request)
    budgets = [("source", source, getattr(limits, f"{door}_per_source"))]
    if target:
        budgets.append(("target", target, getattr(limits, f"{door}_per_target")))
    over: list[tuple[str, int]] = []
    with unit_of_work(Scope.network("count a request against the rate limits", origin=source)) as session:
        for by, value, limit in budgets:
            count = throttle.hit(session, throttle.counter_key("rate", door, by, value), window)
            if count.hits > limit:
                over.append((by, count.retry_after()))
    if not over:
        return
    retry_after = max(seconds for _, seconds in over)
    spent = [by for by, _ in over]
    record_security_event(
        "security.rate_limited",
        source,
        {"path": request.url.path, "door": door, "by": spent},
        # One entry per source and door (and target, when the target's budget is spent), not per guess.
        f"{door}|{'+'.join(spent)}|{target if 'target' in spent else ''}",
    )
    raise RateLimited(retry_after)
