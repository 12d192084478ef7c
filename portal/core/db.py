"""Database: metadata, declarative base, the engine, and the units of work.

Every request, task and command does its work in units of work, each opened
for a declared tenancy scope (a session without one refuses to run ORM
queries, see portal.core.tenancy):

- `unit_of_work(scope)` commits once, at its end, and rolls back if anything
  raises. Services only `flush()`; they never commit, so several of them
  compose into one transaction (a payment confirmed and its dossier moved).
- `read_only(scope)` is for paths that only read: it never commits (its
  transaction ends when it closes), and any attempt to write in it raises
  `ReadOnlyViolation`.
  On SQLite it also takes no write lock, so readers never queue behind writers.
- `attempt(session)` wraps a call that may be refused inside a unit that goes
  on (a form shown again with its errors): a savepoint, rolled back if it raises.
- `on_commit(session, fn)` registers a side effect that must follow the
  commit (enqueue a Celery task, send a message): it runs only after the
  unit of work has committed, and is dropped if the transaction (or the
  savepoint it was registered in) rolls back.

Only this module commits. See docs/decisions/0002-unit-of-work.md.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, DateTime, Executable, MetaData, TypeDecorator, Uuid, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)

from portal.core.settings import get_settings

if TYPE_CHECKING:
    from portal.core.tenancy import Scope

log = logging.getLogger(__name__)

_READ_ONLY = "portal_read_only"  # session.info flag and connection execution option
_HOOKS = "portal_on_commit"  # session.info: [(savepoint or None, callback), ...]

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
    # A read-only unit never writes: a deferred BEGIN reads a WAL snapshot
    # without the write lock.
    if connection.get_execution_options().get(_READ_ONLY):  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN")  # type: ignore[attr-defined]
        return
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
    if settings.database.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database.url)


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


class ReadOnlyViolation(RuntimeError):
    """Something tried to write in a read-only unit of work. A programming error."""


@lru_cache(maxsize=1)
def _read_only_engine() -> Engine:
    # The same pool; every connection taken through it carries the option, so
    # its transactions begin without the write lock (see _sqlite_begin).
    return get_engine().execution_options(**{_READ_ONLY: True})


def _new_session(scope: Scope, *, read_only: bool = False) -> Session:
    factory = _session_factory()
    session = factory(bind=_read_only_engine()) if read_only else factory()
    session.info["scope"] = scope
    if read_only:
        session.info[_READ_ONLY] = True
    return session


def begin_unit(scope: Scope, *, read_only: bool = False) -> Session:
    """Open a unit of work (no connection yet: it is taken on first use). Pair with `end_unit`.

    For code that cannot use the context managers below (the web layer's
    dependency providers); everything else uses `unit_of_work` / `read_only`.
    """
    return _new_session(scope, read_only=read_only)


def end_unit(session: Session, *, commit: bool) -> None:
    """End a unit of work: commit it (then run its on_commit callbacks) or roll it back; always close it.

    A read-only unit is only closed: it has nothing to commit, and what it
    loaded stays readable.
    """
    try:
        if session.info.get(_READ_ONLY):
            return
        if commit:
            session.commit()
            _run_hooks(session)
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_HOOKS, None)
        session.close()


@contextmanager
def unit_of_work(scope: Scope) -> Iterator[Session]:
    """One transaction for a declared scope: commits once at the end, rolls back on any exception.

    After the commit, the callbacks registered with `on_commit` run, in order.
    """
    session = begin_unit(scope)
    try:
        yield session
    except BaseException:
        end_unit(session, commit=False)
        raise
    end_unit(session, commit=True)


@contextmanager
def read_only(scope: Scope) -> Iterator[Session]:
    """A unit of work that only reads: never commits, refuses writes.

    Closing it ends its transaction (a rollback at the database) but keeps the
    objects it loaded readable, so a page can be rendered after it has ended.
    """
    session = begin_unit(scope, read_only=True)
    try:
        yield session
    finally:
        end_unit(session, commit=False)


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's unit of work; how many rows it changed."""
    result = session.execute(statement)
    return int(cast("CursorResult[Any]", result).rowcount or 0)


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Run a call that may be refused: if it raises, what it wrote is undone and the unit goes on.

    For a handler that catches a refusal and still answers with a page: the
    failed call's writes (and its on_commit callbacks) must not be committed
    with the page's reads. A savepoint: objects the call did not touch stay
    loaded, so the page renders without going back to the database.
    """
    with session.begin_nested():
        yield


def on_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's unit of work has committed; never if it rolls back.

    Registered inside a savepoint (`session.begin_nested()`), it is dropped when
    that savepoint rolls back. A callback that fails is logged; the commit stands
    (whatever it enqueues must be recoverable anyway, e.g. by a sweeper).
    """
    if session.info.get(_READ_ONLY):
        raise ReadOnlyViolation("on_commit in a read-only unit of work")
    session.info.setdefault(_HOOKS, []).append((session.get_nested_transaction(), callback))


def _run_hooks(session: Session) -> None:
    hooks = session.info.pop(_HOOKS, [])
    for _savepoint, callback in hooks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_hooks_of_rolled_back_work(session: Session, previous_transaction: SessionTransaction) -> None:
    hooks = session.info.get(_HOOKS)
    if not hooks:
        return
    if previous_transaction.parent is None:  # the whole transaction rolled back
        session.info.pop(_HOOKS, None)
    elif previous_transaction.nested:  # a savepoint rolled back: drop what was registered inside it
        session.info[_HOOKS] = [(sp, fn) for sp, fn in hooks if not _inside(sp, previous_transaction)]


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_read_only(session: Session, _flush_context: object, _instances: object) -> None:
    if session.info.get(_READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("a read-only unit of work tried to write; open a unit_of_work for this")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements_when_read_only(state: ORMExecuteState) -> None:
    if state.session.info.get(_READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyViolation("a read-only unit of work tried to write; open a unit_of_work for this")


def check_database() -> str:
    """ "ok", or the kind of error that stops a round trip to the database (for /healthz)."""
    try:
        with get_engine().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {type(exc).__name__}"
