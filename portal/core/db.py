"""Database: metadata, declarative base, the engine and the one session factory.

Everything (web handlers, Celery tasks, CLI) opens sessions through
`open_session(scope)`; a session without a declared tenancy scope refuses to
run ORM queries (see portal.core.tenancy).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, MetaData, TypeDecorator, Uuid, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from portal.core.settings import get_settings

if TYPE_CHECKING:
    from portal.core.tenancy import Scope

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the web process, the worker and the simulators' callbacks
    # read while one writes; busy_timeout waits for the writer instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: object) -> None:
    # Several processes write one SQLite file (web, worker). A deferred
    # transaction that reads and then writes can fail at once with "database is
    # locked" when another writer got in between; BEGIN IMMEDIATE takes the
    # write lock up front, so writers queue (busy_timeout) instead of failing.
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    settings = get_settings()
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def open_session(scope: Scope) -> Iterator[Session]:
    """The one way to get a session: with its tenancy scope declared."""
    session = _session_factory()()
    session.info["scope"] = scope
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
