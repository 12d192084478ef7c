"""Piccolo table classes for the back office, generated at start-up from our SQLAlchemy metadata.

Alembic's migrations are the schema; `portal.core.db.metadata` mirrors them; this
module turns each of its tables into a piccolo `Table` class, so there is no
second, hand-written copy of the schema. Every column ends up in one of three
kinds, decided here and nowhere else:

- mapped by its SQLAlchemy type (`_MAPPERS`);
- withheld: never selected, so it never leaves the database towards the admin
  (citizens' encrypted data, blind indexes, password and token hashes, the
  dossier's form values and the citizen's address and birth date);
- masked: a citizen's name, computed in SQL as its first letter and `***`,
  so the admin only ever receives the mask.

A column of a type with no mapper stops the start-up with its table and name
(`UnmappableColumn`); tests/portal/admin/test_tables.py builds every table, so
a new column that cannot be shown fails the tests first. On SQLite our UUIDs are
stored as 32 hex digits (SQLAlchemy's `Uuid` there), so they are mapped as
text, compared as stored; on PostgreSQL they are native.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Column,
    Date,
    DoublePrecision,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table, create_table_class

from portal.core.crypto import EncryptedText
from portal.core.db import UTCDateTime

# Personal data and secrets that never reach the admin, by table and column.
WITHHELD: frozenset[tuple[str, str]] = frozenset(
    {
        ("accounts", "password_hash"),
        ("api_clients", "secret_hash"),
        ("api_tokens", "token_hash"),
        ("invitations", "token_hash"),
        ("sign_in_sessions", "token_hash"),
        ("dossiers", "owner_id_number_index"),
        ("dossiers", "owner_phone_index"),
        ("dossiers", "owner_birth_date"),
        ("dossiers", "owner_address"),
        ("dossiers", "proxy_address"),
        ("dossiers", "proxy_authorisation"),
        ("dossiers", "form_data"),  # what the citizen's form says: names, dates, places of their family
    }
)
# Citizens' names: shown as a mask computed by the database.
MASKED: frozenset[tuple[str, str]] = frozenset({("dossiers", "owner_full_name"), ("dossiers", "proxy_full_name")})
# Types whose values are personal data wherever they appear (ciphertext is of no use to anyone reading it).
WITHHELD_TYPES: tuple[type[sa.types.TypeEngine[Any]], ...] = (EncryptedText,)

# Vietnamese help for the columns people look at most (piccolo shows it next to the field; headers keep
# the column names, which piccolo cannot relabel).
LABELS: dict[str, str] = {
    "code": "Mã",
    "name": "Tên",
    "status": "Trạng thái",
    "status_reason": "Lý do",
    "state": "Trạng thái",
    "kind": "Loại",
    "address": "Địa chỉ",
    "ward": "Phường/xã",
    "opening_hours": "Giờ mở cửa",
    "partner_id": "Đối tác",
    "agent_point_id": "Điểm",
    "created_at": "Tạo lúc",
    "updated_at": "Cập nhật lúc",
    "email": "Email",
    "full_name": "Họ tên",
    "role": "Vai trò",
    "tracking_code": "Mã hồ sơ",
    "owner_full_name": "Chủ hồ sơ",
    "proxy_full_name": "Người được ủy quyền",
    "amount_vnd": "Số tiền (đồng)",
    "action": "Hành động",
    "actor_label": "Người thực hiện",
    "occurred_at": "Thời điểm",
}


class UnmappableColumn(RuntimeError):
    """A column of our schema that the back office cannot show; the message names it."""


class MaskedName(Varchar):
    """A name the database masks before it leaves: its first letter, then ***."""

    def get_select_string(self, engine_type: str, with_alias: bool = True) -> QueryString:
        expression = f"substr({self._meta.get_full_name(with_alias=False)}, 1, 1) || '***'"
        return QueryString(f'{expression} AS "{self._meta.name}"' if with_alias else expression)

    def get_where_string(self, engine_type: str) -> QueryString:
        # A filter can only ever match the mask, never probe the name letter by letter.
        return self.get_select_string(engine_type, with_alias=False)


@dataclass(frozen=True)
class AdminTables:
    """The generated classes by table name, and what each table withholds and masks."""

    classes: dict[str, type[Table]]
    withheld: dict[str, frozenset[str]]
    masked: dict[str, frozenset[str]]
    # Tables piccolo cannot represent at all (a primary key of several columns), with why; never shown.
    skipped: dict[str, str]

    def hidden(self, table: str) -> frozenset[str]:
        """Columns nobody may filter or sort the table by (their values are not shown)."""
        return self.withheld.get(table, frozenset()) | self.masked.get(table, frozenset())


def _choices(sa_type: sa.Enum) -> type[enum.Enum] | None:
    # SQLAlchemy stores an enum member's *name*; ours all have name == value.
    names = list(sa_type.enums)
    if not names:
        return None
    choices: type[enum.Enum] = enum.Enum(f"{sa_type.name or 'Choice'}Choices", {n: n for n in names})  # type: ignore[misc]
    return choices


def _length(sa_type: sa.types.TypeEngine[Any], default: int = 255) -> int:
    return int(getattr(sa_type, "length", None) or default)


def _uuid(sqlite: bool) -> Callable[[sa.types.TypeEngine[Any], dict[str, Any]], Column]:
    def make(_sa_type: sa.types.TypeEngine[Any], kw: dict[str, Any]) -> Column:
        return Varchar(length=32, **kw) if sqlite else UUID(**kw)

    return make


def _mappers(sqlite: bool) -> list[tuple[type[Any], Callable[[Any, dict[str, Any]], Column]]]:
    # Most specific first: Enum is a String, BigInteger an Integer, Text a String.
    return [
        (sa.Enum, lambda t, kw: Varchar(length=_length(t, 32), choices=_choices(t), **kw)),
        (sa.Text, lambda t, kw: Text(**kw)),
        (sa.String, lambda t, kw: Varchar(length=_length(t), **kw)),
        (sa.BigInteger, lambda t, kw: BigInt(**kw)),
        (sa.Integer, lambda t, kw: Integer(**kw)),
        (sa.Boolean, lambda t, kw: Boolean(**kw)),
        (sa.Float, lambda t, kw: DoublePrecision(**kw)),
        (sa.JSON, lambda t, kw: JSON(**kw)),
        (sa.Uuid, _uuid(sqlite)),
        (UTCDateTime, lambda t, kw: Timestamptz(**kw)),
        (sa.DateTime, lambda t, kw: Timestamptz(**kw)),
        (sa.Date, lambda t, kw: Date(**kw)),
    ]


def _piccolo_column(table: str, column: sa.Column[Any], sqlite: bool) -> Column:
    kw: dict[str, Any] = {"null": bool(column.nullable), "primary_key": bool(column.primary_key)}
    if column.name in LABELS:
        kw["help_text"] = LABELS[column.name]
    sa_type = column.type
    if (table, column.name) in MASKED:
        return MaskedName(length=_length(sa_type), **kw)
    for kind, make in _mappers(sqlite):
        if isinstance(sa_type, kind):
            return make(sa_type, kw)
    raise UnmappableColumn(
        f"{table}.{column.name} ({type(sa_type).__name__}) has no piccolo mapping in portal/admin/tables.py: "
        "map its type, or withhold it there if it is personal data or a secret"
    )


def _class_name(table: str) -> str:
    return "Admin" + "".join(part.capitalize() for part in re.split(r"[_\W]+", table) if part)


def build_tables(tables: Iterable[sa.Table], engine: Engine | None, *, sqlite: bool) -> AdminTables:
    """Piccolo classes for `tables` (our metadata's), bound to the admin's own engine."""
    classes: dict[str, type[Table]] = {}
    withheld: dict[str, frozenset[str]] = {}
    masked: dict[str, frozenset[str]] = {}
    skipped: dict[str, str] = {}
    for table in tables:
        primary = list(table.primary_key.columns)
        if len(primary) != 1:
            # A link table (point_procedures: point x procedure); its rows show through the tables it links.
            skipped[table.name] = "piccolo needs a single-column primary key"
            continue
        members: dict[str, Column] = {}
        kept_back: set[str] = set()
        for column in table.columns:
            if (table.name, column.name) in WITHHELD or isinstance(column.type, WITHHELD_TYPES):
                kept_back.add(column.name)
                continue
            members[column.name] = _piccolo_column(table.name, column, sqlite)
        class_kwargs: dict[str, Any] = {"tablename": table.name}
        if engine is not None:
            class_kwargs["db"] = engine
        classes[table.name] = create_table_class(
            _class_name(table.name), class_kwargs=class_kwargs, class_members=members
        )
        withheld[table.name] = frozenset(kept_back)
        masked[table.name] = frozenset(c.name for c in table.columns if (table.name, c.name) in MASKED)
    return AdminTables(classes, withheld, masked, skipped)
