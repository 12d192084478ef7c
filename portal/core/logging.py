"""Logging for every process (web, worker, CLI): one configuration, one log context.

`configure_logging(settings, service=...)` is the only place that sets up
handlers. Each line carries the process's *log context*: the request id and,
where known, the partner, the dossier (id and tracking code) and the Celery
task (name and id). The context lives in one `ContextVar`, so it follows a web
request into the thread that runs its handler, and a task for exactly as long
as it runs (portal.core.observability sets and clears it).

Two formats (`LOG_FORMAT`): `json`, one object per line for log shippers
(default in production), and `text` for people reading a terminal (default in
the demo). docs/operations.md lists the fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.core.settings import Settings

#: Context fields, in the order the text format shows them.
CONTEXT_FIELDS = ("request_id", "partner_id", "dossier_id", "tracking_code", "task_name", "task_id")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_LENGTH = 128
# Letters, digits and `. _ : -`: enough for UUIDs, ULIDs and proxies' trace ids,
# nothing that could break a log line or a header (no spaces, quotes, newlines).
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("portal_log_context", default=_EMPTY)


# -- request ids ------------------------------------------------------------------


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(raw: str | None) -> str | None:
    """A caller's request id if it is sane (bounded length, safe characters), else None."""
    if raw is None:
        return None
    candidate = raw.strip()
    if not 0 < len(candidate) <= REQUEST_ID_MAX_LENGTH or not _REQUEST_ID.fullmatch(candidate):
        return None
    return candidate


def current_request_id() -> str | None:
    return _context.get().get("request_id")


# -- the log context ------------------------------------------------------------------


def log_context() -> dict[str, str]:
    """The fields every log line of this context carries."""
    return dict(_context.get())


def _clean(fields: Mapping[str, object]) -> dict[str, str]:
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"not log context fields: {', '.join(sorted(unknown))}")
    return {name: str(value) for name, value in fields.items() if value is not None and value != ""}


def bind(**fields: object) -> None:
    """Add fields to the open context, until whoever opened it (a request, a task, a command) closes it.

    Outside any open context nothing is kept, so no field outlives the work it described.
    """
    clean = _clean(fields)
    current = _context.get()
    if current is not _EMPTY:
        _context.set(MappingProxyType({**current, **clean}))


def open_context(**fields: object) -> Token[Mapping[str, str]]:
    """Start a fresh context (a request, a task); hand the token to `close_context`."""
    return _context.set(MappingProxyType(_clean(fields)))


def close_context(token: Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """The current context plus `fields`, for the duration of the block."""
    token = _context.set(MappingProxyType({**_context.get(), **_clean(fields)}))
    try:
        yield
    finally:
        _context.reset(token)


# -- formats -------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_NOISE = frozenset({"color_message"})  # uvicorn's coloured duplicate of the message


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """Context fields, then this record's own `extra=` fields (which win)."""
    fields: dict[str, Any] = dict(_context.get())
    for name, value in record.__dict__.items():
        if name not in _RECORD_ATTRIBUTES and name not in _NOISE and not name.startswith("_"):
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, service, request_id, then the rest."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "pid": record.process,
            "request_id": fields.pop("request_id", None),
        }
        for name, value in fields.items():
            entry.setdefault(name, value)  # an `extra=` field never replaces one of the fields above
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request_id=… dossier_id=…] message`, for a terminal."""

    def __init__(self, service: str) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        shown = [f"{name}={fields[name]}" for name in CONTEXT_FIELDS if name in fields]
        record.__dict__["context"] = f" [{' '.join(shown)}]" if shown else ""
        try:
            return super().format(record)
        finally:
            del record.__dict__["context"]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# Loggers that servers configure with handlers of their own; ours take over.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "litestar")
# Their INFO lines repeat ours: httpx's request lines (portal.http.outbound has them, with the
# request id) and uvicorn's access lines (portal.access has them, with the request id and route).
_QUIETER = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "uvicorn.access": logging.WARNING}


def configure_logging(settings: Settings, *, service: str) -> None:
    """Send every logger's records through one stderr handler in the configured format.

    `service` names the process kind in each line: "web", "worker" or "cli".
    Safe to call again (the web app calls it each time it is built).
    """
    options = settings.observability
    handler = _StderrHandler()
    formatter: logging.Formatter = JsonFormatter(service) if options.log_format == "json" else TextFormatter(service)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(options.log_level)
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name, level in _QUIETER.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)  # warnings become log lines too, in the same format
