"""piccolo-admin mounted at /admin, inside the portal's sign-in, tenancy and audit walls.

- **Who**: the mount reads the portal's own session and asks agents.policy. A center
  admin gets the read-write app, an auditor the read-only one (both built once, at
  start-up); anyone else, signed in or not, gets the portal's 404, the very answer
  of any missing page. piccolo's login, logout and password pages never answer.
- **As whom**: the person reaches piccolo as an in-memory piccolo user for this request
  (`_visitor`, a context variable): no piccolo user or session table exists.
- **Writes**: piccolo never writes. Every edit, add and delete passes a hook
  (`_guard_patch`, `_refuse_save`, `_refuse_delete`): refused with a message naming the
  column and the action that owns it, or, for a column on agents.back_office.EDITABLE,
  written through our ORM in a unit of work with its audit entry, after which
  piccolo's request ends as done (`_Saved`) before its own UPDATE.
- **Domain actions** are piccolo forms calling our services in a worker thread, in a
  unit of work, exactly as the portal's pages do (`_run_action`).
- **CSRF**: Litestar's middleware guards /admin too; piccolo's own cookie of the same name
  is dropped on the way out, so both check the one Litestar token.
See docs/decisions/0027-back-office-piccolo-admin.md.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio.to_thread
import pydantic
from litestar import Request, asgi
from litestar.exceptions import NotFoundException
from litestar.types import Message, Receive, Scope, Send
from piccolo.apps.user.tables import BaseUser
from piccolo.engine.base import Engine
from piccolo.table import Table
from piccolo.utils.pydantic import create_pydantic_model
from piccolo_admin.endpoints import FormConfig, TableConfig, create_admin
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.crud.validators import Validators
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException

import payments.models  # noqa: F401  (every table on the metadata: the admin shows payments too)
from agents import back_office, policy
from agents.partners import service as partners
from agents.partners.models import PartnerStatus
from agents.points import service as points
from agents.points.models import AgentPointStatus
from agents.policy import Permission
from agents.procedures import imports, publishing
from agents.staff.actor import Actor
from portal.admin.tables import AdminTables, build_tables
from portal.admin.translation import TRANSLATIONS
from portal.auth.session import client_ip, current_actor, sign_out
from portal.core import audit
from portal.core.db import metadata, unit_of_work
from portal.core.errors import DomainError
from portal.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

MOUNT = "/admin"
# Shown in the sidebar, in this order; every other table of the metadata is generated (and tested) but not shown.
SHOWN = (
    "partners",
    "agent_points",
    "procedures",
    "accounts",
    "role_assignments",
    "api_clients",
    "dossiers",
    "dossier_events",
    "payments",
    "refunds",
    "ratings",
    "audit_events",
    "calendar_overrides",
)
# piccolo's own pages that must never answer here (its sign-in, password, MFA, API docs).
_CLOSED: tuple[str, ...] = (
    "/public/login",
    "/public/docs",
    "/public/openapi.json",
    "/api/change-password",
    "/api/mfa-setup",
    "/api/docs",
    "/api/openapi.json",
    "/api/media",
)


@dataclass(frozen=True)
class Visitor:
    actor: Actor
    origin: str
    person: BaseUser


_visitor: contextvars.ContextVar[Visitor | None] = contextvars.ContextVar("back_office_visitor", default=None)


def _current() -> Visitor:
    visitor = _visitor.get()
    if visitor is None:  # never: the mount sets it before piccolo runs
        raise HTTPException(status_code=401, detail="Vui lòng đăng nhập")
    return visitor


class _PersonLookup:
    """What piccolo's SessionsAuthBackend asks of its user table: answered from this request's visitor."""

    def where(self, *_: Any) -> _PersonLookup:
        return self

    def first(self) -> _PersonLookup:
        return self

    async def run(self) -> BaseUser | None:
        visitor = _visitor.get()
        return visitor.person if visitor else None


class PortalPerson(BaseUser, tablename="portal_back_office_person"):
    """The signed-in portal person as piccolo sees them; never stored."""

    @classmethod
    def objects(cls, *_: Any) -> Any:
        return _PersonLookup()


class PortalSessions(SessionsBase, tablename="portal_back_office_session"):
    """piccolo's session check answered by the portal's own session (the mount already checked it)."""

    @classmethod
    async def get_user_id(cls, token: str, increase_expiry: Any = None) -> int | None:
        return 1 if _visitor.get() is not None else None

    @classmethod
    async def remove_session(cls, token: str) -> None:
        return None


def _refused(message: str, field: str = "__all__") -> HTTPException:
    """A 422 in the shape piccolo's interface shows next to the form ("<field> field - <message>")."""
    detail: Any = [{"loc": ["body", field], "msg": message, "type": "refused"}]  # FastAPI answers any JSON detail
    return HTTPException(status_code=422, detail=detail)


class _Saved(HTTPException):
    """Ends piccolo's PATCH as done: our unit of work wrote the change (piccolo's UPDATE never runs)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=200, detail=detail)


def _network_work(visitor: Visitor, reason: str, work: Callable[[Any], Any]) -> Any:
    scope = visitor.actor.network_scope(reason, origin=visitor.origin)
    with unit_of_work(scope) as session:
        return work(session)


def _record_refusal(visitor: Visitor, table: str, row_id: object, detail: dict[str, Any]) -> None:
    scope = visitor.actor.network_scope("back office: an edit refused", origin=visitor.origin)
    audit.record_refusal(None, "admin.edit_refused", table, row_id, scope=scope, detail={"via": "admin", **detail})


def _same(before: Any, after: Any) -> bool:
    """Does the value the edit form sent back equal the stored one (as piccolo shows it)?"""
    if before is None or after is None:
        return before is None and after is None
    if isinstance(before, datetime) and isinstance(after, datetime):
        b = before if before.tzinfo else before.replace(tzinfo=UTC)
        a = after if after.tzinfo else after.replace(tzinfo=UTC)
        return abs((a - b).total_seconds()) < 1  # the form shows whole seconds
    if isinstance(before, str) and isinstance(after, (dict, list)):
        before = json.loads(before)
    if isinstance(after, str) and isinstance(before, (dict, list)):
        after = json.loads(after)
    if isinstance(before, uuid.UUID) or isinstance(after, uuid.UUID):
        return str(before).replace("-", "").lower() == str(after).replace("-", "").lower()
    return bool(before == after) or str(getattr(before, "value", before)) == str(getattr(after, "value", after))


def _hooks(table: type[Table]) -> list[Hook]:
    name = table._meta.tablename
    shown = create_pydantic_model(table, all_optional=True, include_default_columns=True, model_name=f"{name}Now")

    async def guard_patch(row_id: Any, values: dict[Any, Any]) -> dict[Any, Any]:
        visitor = _current()
        current = await table.select().where(table._meta.primary_key == row_id).first().run()
        if current is None:
            raise HTTPException(status_code=404, detail="Không tìm thấy dòng này")
        now = shown(**current).model_dump()
        changed = {col._meta.name: value for col, value in values.items() if not _same(now.get(col._meta.name), value)}
        if not changed:
            raise _Saved("Không có gì thay đổi")
        refusal = back_office.refusal_for(name, list(changed))
        if refusal:
            await anyio.to_thread.run_sync(
                _record_refusal, visitor, name, row_id, {"columns": sorted(changed), "why": refusal}
            )
            raise _refused(refusal, sorted(c for c in changed if c not in back_office.EDITABLE.get(name, ()))[0])
        try:
            await anyio.to_thread.run_sync(
                _network_work,
                visitor,
                f"back office: edit of {name}",
                partial(back_office.apply_edit, actor=visitor.actor, table=name, row_id=str(row_id), values=changed),
            )
        except DomainError as exc:
            raise _refused(str(exc.message), next(iter(exc.field_errors or {"__all__": ""}))) from exc
        raise _Saved("Đã lưu")

    async def refuse_save(row: Table) -> Table:
        raise _refused("Không thêm dòng ở trang quản trị: dùng quy trình nghiệp vụ.")

    async def refuse_delete(row_id: Any) -> None:
        raise HTTPException(
            status_code=422, detail="Không xóa dòng ở trang quản trị: hồ sơ, nhật ký không bao giờ bị xóa."
        )

    return [
        Hook(HookType.pre_patch, guard_patch),
        Hook(HookType.pre_save, refuse_save),
        Hook(HookType.pre_delete, refuse_delete),
    ]


def _refuse_hidden_filters(hidden: frozenset[str]) -> Callable[..., None]:
    def check(piccolo_crud: PiccoloCRUD, request: Any) -> None:
        asked = {key.split("__")[0] for key in request.query_params}
        asked |= {v.lstrip("-") for v in request.query_params.getlist("__order")}
        if asked & hidden:
            raise _refused("Không lọc, sắp xếp theo dữ liệu cá nhân đã che", sorted(asked & hidden)[0])

    return check


# --- domain actions, as piccolo forms -------------------------------------------------------------


class ApprovePoint(pydantic.BaseModel):
    point_id: str = pydantic.Field(title="Mã số điểm (id)", description="Cột id trong bảng agent_points")


class ClosePoint(pydantic.BaseModel):
    point_id: str = pydantic.Field(title="Mã số điểm (id)")
    reason: str = pydantic.Field(title="Lý do đóng điểm")


class SuspendPartner(pydantic.BaseModel):
    partner_code: str = pydantic.Field(title="Mã đối tác")
    reason: str = pydantic.Field(title="Lý do tạm dừng (đối tác sẽ thấy khi đăng nhập)")


class ReinstatePartner(pydantic.BaseModel):
    partner_code: str = pydantic.Field(title="Mã đối tác")


def _error_text(exc: DomainError) -> str:
    fields = "; ".join(f"{name}: {text}" for name, text in (getattr(exc, "field_errors", None) or {}).items())
    return f"{exc.message} ({fields})" if fields else exc.message


async def _run_action(reason: str, work: Callable[[Any, Actor], str]) -> str:
    visitor = _current()
    if not policy.can(visitor.actor, Permission.change_in_back_office):
        raise ValueError(policy.MESSAGES[Permission.change_in_back_office])
    try:
        return str(await anyio.to_thread.run_sync(_network_work, visitor, reason, lambda s: work(s, visitor.actor)))
    except DomainError as exc:
        raise ValueError(_error_text(exc)) from exc


def _point_key(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError as exc:
        raise ValueError("Mã số điểm không hợp lệ: chép cột id trong bảng agent_points") from exc


async def approve_point(request: Any, data: ApprovePoint) -> str:
    key = _point_key(data.point_id)

    def work(session: Any, actor: Actor) -> str:
        point = points.set_status(session, actor, key, AgentPointStatus.approved)
        return f"Đã duyệt điểm {point.code} — {point.name}"

    return await _run_action("back office: approve a point", work)


async def close_point(request: Any, data: ClosePoint) -> str:
    key = _point_key(data.point_id)

    def work(session: Any, actor: Actor) -> str:
        point = points.set_status(session, actor, key, AgentPointStatus.closed, data.reason)
        return f"Đã đóng điểm {point.code} — {point.name}"

    return await _run_action("back office: close a point", work)


def _partner_id(session: Any, code: str) -> uuid.UUID:
    for partner in partners.list_partners(session):
        if partner.code == code.strip().upper():
            return partner.id
    raise ValueError(f"Không có đối tác mã «{code.strip()}»")


async def suspend_partner(request: Any, data: SuspendPartner) -> str:
    def work(session: Any, actor: Actor) -> str:
        partner = partners.set_status(
            session, actor, _partner_id(session, data.partner_code), PartnerStatus.suspended, data.reason
        )
        return f"Đã tạm dừng đối tác {partner.name}"

    return await _run_action("back office: suspend a partner", work)


async def reinstate_partner(request: Any, data: ReinstatePartner) -> str:
    def work(session: Any, actor: Actor) -> str:
        partner = partners.set_status(session, actor, _partner_id(session, data.partner_code), PartnerStatus.active)
        return f"Đã khôi phục đối tác {partner.name}"

    return await _run_action("back office: reinstate a partner", work)


class PublishProcedureVersion(pydantic.BaseModel):
    """The center's catalogue page's publish form, field for field (agents.procedures.publishing.FIELDS)."""

    code: str = pydantic.Field(title="Mã TTHC", description="Ví dụ 1.001193; một mã đã có thì thêm phiên bản mới")
    name: str = pydantic.Field(title="Tên thủ tục")
    field_code: str = pydantic.Field(title="Mã lĩnh vực")
    field_name: str = pydantic.Field(title="Lĩnh vực")
    handled_by: str = pydantic.Field(title="Cơ quan giải quyết")
    processing_days: str = pydantic.Field(title="Thời hạn (ngày làm việc)")
    city_charges: str = pydantic.Field("none", title="Thành phố thu phí: before (trước), after (sau), none (không)")
    fee_rules: str = pydantic.Field("", title="Quy tắc lệ phí (JSON)")
    fee_note: str = pydantic.Field("", title="Ghi chú lệ phí")
    required_documents: str = pydantic.Field("", title="Thành phần hồ sơ (JSON)")
    form_schema: str = pydantic.Field("", title="Biểu mẫu (JSON Schema)")
    effective_from: str = pydantic.Field("", title="Ngày hiệu lực (YYYY-MM-DD; trống: hôm nay)")
    change_note: str = pydantic.Field("", title="Nội dung thay đổi")


class ImportCatalogue(pydantic.BaseModel):
    """A catalogue file's content, pasted. piccolo's forms send JSON and draw one-line inputs (no file, no text
    area): a JSON catalogue pastes whole; a CSV file keeps its line breaks only when posted to the form's API,
    so in the browser a CSV file goes through the portal's upload page (the sidebar links to it)."""

    kind: str = pydantic.Field("json", title="Loại tệp: json hoặc csv")
    mode: str = pydantic.Field(
        "check", title="Khi có dòng lỗi: check (chỉ kiểm tra), valid (nhập dòng hợp lệ), all (tất cả hoặc không gì)"
    )
    content: str = pydantic.Field(
        title="Nội dung tệp",
        description="Dán nội dung tệp JSON (một danh sách thủ tục); tệp CSV: tải lên ở trang Danh mục thủ tục",
    )


async def publish_version(request: Any, data: PublishProcedureVersion) -> str:
    def work(session: Any, actor: Actor) -> str:
        version = publishing.publish_typed(session, actor, data.model_dump())
        return f"Đã công bố {version.code}, phiên bản {version.number} (hiệu lực từ {version.effective_from})"

    return await _run_action("back office: publish a procedure version", work)


def import_report_text(report: imports.ImportReport) -> str:
    """The page's import report as one text (piccolo shows a form's answer as a line)."""
    head = f"Số dòng: {report.rows} · dòng hợp lệ: {report.valid_rows} · dòng lỗi: {len(report.bad_rows)}."
    if report.published:
        done = "Đã công bố: " + ", ".join(f"{code} (phiên bản {number})" for code, number in report.published) + "."
    elif report.mode is imports.ImportMode.check:
        done = "Chỉ kiểm tra: chưa lưu gì."
    else:
        done = "Không lưu dòng nào."
    problems = " ".join(f"Dòng {p.row} ({p.code or '—'}), «{p.field}»: {p.reason}." for p in report.problems)
    return " ".join(part for part in (head, done, problems) if part)


async def import_catalogue(request: Any, data: ImportCatalogue) -> str:
    def work(session: Any, actor: Actor) -> str:
        mode = data.mode.strip().lower()
        if mode not in {m.value for m in imports.ImportMode}:
            raise publishing.refused({"mode": "Chỉ nhận check, valid hoặc all"})
        report = imports.import_catalogue(
            session, actor, data.content.encode("utf-8"), kind=data.kind.strip().lower(), mode=mode
        )
        text = import_report_text(report)
        if report.problems and not report.published and mode != imports.ImportMode.check.value:
            raise ValueError(text)  # nothing was saved: shown as the form's error, like the page's 422
        return text

    return await _run_action("back office: import a catalogue file", work)


FORMS = [
    FormConfig(
        name="Duyệt điểm",
        pydantic_model=ApprovePoint,
        endpoint=approve_point,
        description="Duyệt một điểm đại lý đang chờ (như trang Trung tâm › Điểm).",
        form_group="Điểm đại lý",
    ),
    FormConfig(
        name="Đóng điểm",
        pydantic_model=ClosePoint,
        endpoint=close_point,
        description="Đóng một điểm, có lý do.",
        form_group="Điểm đại lý",
    ),
    FormConfig(
        name="Tạm dừng đối tác",
        pydantic_model=SuspendPartner,
        endpoint=suspend_partner,
        description="Tạm dừng một đối tác, có lý do; mọi phiên đăng nhập của đối tác kết thúc.",
        form_group="Đối tác",
    ),
    FormConfig(
        name="Khôi phục đối tác",
        pydantic_model=ReinstatePartner,
        endpoint=reinstate_partner,
        form_group="Đối tác",
    ),
    FormConfig(
        name="Công bố phiên bản thủ tục",
        pydantic_model=PublishProcedureVersion,
        endpoint=publish_version,
        description="Công bố một phiên bản mới của thủ tục (như trang Trung tâm › Danh mục thủ tục); "
        "hồ sơ đã nộp giữ phiên bản cũ.",
        form_group="Danh mục thủ tục",
    ),
    FormConfig(
        name="Nhập danh mục từ tệp",
        pydantic_model=ImportCatalogue,
        endpoint=import_catalogue,
        description="Kiểm tra từng dòng của tệp CSV hoặc JSON; nhập các dòng hợp lệ, tất cả hoặc không gì.",
        form_group="Danh mục thủ tục",
    ),
]


# --- the two apps and the mount -------------------------------------------------------------------


def admin_engine(settings: Settings) -> Engine:
    if settings.database.is_sqlite:
        from piccolo.engine.sqlite import SQLiteEngine

        return SQLiteEngine(path=settings.database.url.removeprefix("sqlite:///"))
    from piccolo.engine.postgres import PostgresEngine

    return PostgresEngine(config={"dsn": settings.admin.database_url}, log_queries=False)


@dataclass
class BackOffice:
    engine: Engine
    tables: AdminTables
    writer: Any
    reader: Any

    # No connection pool: piccolo's PostgreSQL engine then opens a connection per query on the event
    # loop that runs it. A pool (asyncpg) is bound to the loop that started it, and this back office is
    # one per process while a process may run several loops one after another or at once (each test
    # client has its own; so may a server restarted in-process): a pooled connection used from another
    # loop crashed the interpreter (a segmentation fault in a clean-clone CI run). The back office is
    # used by a handful of people; a connection per query costs milliseconds there.
    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def build_back_office(settings: Settings) -> BackOffice:
    engine = admin_engine(settings)
    # Never queried (the lookups above answer from the request), but piccolo asks them for an engine.
    PortalPerson._meta.db = engine
    PortalSessions._meta.db = engine
    tables = build_tables(metadata.sorted_tables, engine, sqlite=settings.database.is_sqlite)
    configs = []
    for name in SHOWN:
        table = tables.classes[name]
        hidden = tables.hidden(name)
        configs.append(
            TableConfig(
                table,
                hooks=_hooks(table),
                validators=Validators(every=[_refuse_hidden_filters(hidden)]),
                exclude_visible_filters=[c for c in table._meta.columns if c._meta.name in hidden] or None,
                menu_group="Mạng lưới" if name in ("partners", "agent_points", "procedures") else None,
            )
        )
    host = urlsplit(settings.web.public_url).hostname or "127.0.0.1"
    common: dict[str, Any] = {
        "auth_table": PortalPerson,
        "session_table": PortalSessions,
        "site_name": "Quản trị mạng lưới đại lý",
        "default_language_code": "vi",
        "translations": TRANSLATIONS,
        "production": settings.is_production,
        "allowed_hosts": [host],
        "page_size": 25,
        # The portal's own catalogue page: a CSV file is uploaded there (piccolo's forms take no file).
        "sidebar_links": {"Danh mục thủ tục (tải tệp CSV/JSON)": "/center/procedures/"},
    }
    return BackOffice(
        engine=engine,
        tables=tables,
        writer=create_admin(configs, forms=FORMS, **common),
        reader=create_admin(configs, forms=[], read_only=True, **common),
    )


def _person(actor: Actor) -> BaseUser:
    person = PortalPerson(
        username=actor.full_name,
        email=actor.email,
        admin=True,
        active=True,
        superuser=False,
        first_name=actor.full_name,
    )
    person.id = 1
    return person


def _cookie_header(raw: str) -> str:
    # piccolo reads its session from a cookie named `id`: the browser's own is never passed through.
    kept = [part.strip() for part in raw.split(";") if part.strip() and not part.strip().startswith("id=")]
    return "; ".join([*kept, "id=portal-session"])


async def _send_raw(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)


def _drop_piccolo_csrf_cookie(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                (k, v)
                for k, v in message.get("headers", [])
                if not (k.lower() == b"set-cookie" and v.lstrip().lower().startswith(b"csrftoken="))
            ]
        await send(message)

    return sending


def make_mount(back_office_factory: Callable[[], BackOffice | None]) -> Any:
    """The Litestar handler at /admin (is_mount): who may pass, then piccolo with the Starlette mount conventions."""

    # copy_scope=False: the portal's error handlers must see the path as sent (a refusal here is the
    # portal's own 404 page for that path, exactly as for a path that does not exist).
    @asgi(MOUNT, is_mount=True, copy_scope=False, include_in_schema=False)
    async def back_office_mount(scope: Scope, receive: Receive, send: Send) -> None:
        # The path as sent (Litestar strips the mount and appends "/"); never its query (some servers keep it there).
        full = unquote(scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0]) or MOUNT
        stripped = scope["path"]
        scope["path"] = full
        site = back_office_factory()
        request: Request[Any, Any, Any] = Request(scope, receive)
        actor = await anyio.to_thread.run_sync(current_actor, request) if site is not None else None
        if site is None or actor is None or not policy.can(actor, Permission.open_back_office):
            raise NotFoundException()
        sub = full[len(MOUNT) :] or "/"
        if full == MOUNT:
            await _send_raw(send, 308, [(b"location", f"{MOUNT}/".encode())])
            return
        if any(sub == p or sub.startswith(p + "/") for p in _CLOSED):
            raise NotFoundException()
        del stripped
        if sub.rstrip("/") == "/public/logout":
            await anyio.to_thread.run_sync(_sign_out, request)
            await _send_raw(send, 204, [])
            return
        writer = policy.can(actor, Permission.change_in_back_office)
        app = site.writer if writer else site.reader
        inner: dict[str, Any] = dict(scope)
        inner["root_path"] = scope.get("root_path", "") + MOUNT
        inner["path"] = scope.get("root_path", "") + full
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
        cookie = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie"), "")
        inner["headers"] = [*headers, (b"cookie", _cookie_header(cookie).encode("latin-1"))]
        token = _visitor.set(Visitor(actor, client_ip(request), _person(actor)))
        try:
            await app(inner, receive, _drop_piccolo_csrf_cookie(send))
        finally:
            _visitor.reset(token)

    return back_office_mount


def _sign_out(request: Request[Any, Any, Any]) -> None:
    from portal.core.tenancy import Scope as TenancyScope

    with unit_of_work(TenancyScope.network("sign out from the back office", origin=client_ip(request))) as session:
        sign_out(request, session)


_site: BackOffice | None = None


def the_back_office() -> BackOffice | None:
    """The process's back office, built on first use (None when ADMIN_ENABLED is off)."""
    global _site
    settings = get_settings()
    if not settings.admin.enabled:
        return None
    if _site is None:
        _site = build_back_office(settings)
    return _site


async def start_back_office() -> None:
    site = the_back_office()
    if site is not None:
        await site.start()


async def stop_back_office() -> None:
    if _site is not None:
        await _site.stop()


BACK_OFFICE_MOUNT: Callable[..., Awaitable[None]] = make_mount(the_back_office)
