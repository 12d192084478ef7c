"""Row-level security DDL for partner-owned tables, used by migrations.

The transaction's scope is set by portal.core.tenancy (set_config(..., true)).
Unset means no rows: the policy fails closed as the ORM filter does. Kept as
plain SQL text so a migration's meaning never changes with application code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


def enable(op: Any, tables: Iterable[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})")


def disable(op: Any, tables: Iterable[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
