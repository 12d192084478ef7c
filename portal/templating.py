"""Jinja set-up: the template folder, translation, and display filters.

Translation in templates (Jinja's i18n extension, new-style gettext):
- `{{ _("Xin chào %(name)s", name=x) }}` and `{{ ngettext("%(num)d ngày", "%(num)d ngày", n) }}`
  for texts written in the template (always a literal, so `pybabel extract` finds it);
- `{{ message | translate }}` for a text that comes from code: a `Message` or an `N_()` msgid;
- `label`, `city_status`, `state_label` give an enum value's label, already translated.
All in the request's language (`portal.i18n.request_language`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.file_system import BaseLocalFileSystem
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from litestar.types import PathType
from litestar.types.file_types import FileInfo
from markupsafe import Markup, escape

from agents import policy
from agents.dossiers.attention import is_overdue
from agents.dossiers.models import CityStatus, DossierState
from agents.dossiers.rules import CITY_STATUS_LABELS, STATE_LABELS
from agents.staff.service import MIN_PASSWORD_LENGTH
from portal.core.i18n import SOURCE_LANGUAGE
from portal.forms import show_date
from portal.history import history_lines, recorded
from portal.i18n import VALUE_LABELS, catalogue, request_language, translate

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _language(context: Context) -> str:
    request = context.get("request")
    return request_language(request) if request is not None else SOURCE_LANGUAGE


def _vnd(amount: int | None) -> str:
    return f"{amount or 0:,}".replace(",", ".") + " đ"


def _local_time(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def _masked(value: str | None, shown: int = 4) -> str:
    """A number with only its last digits shown (a receipt may be left on a counter)."""
    text = value or ""
    return "•" * max(len(text) - shown, 0) + text[-shown:]


def _form_value(value: Any, spec: dict[str, Any] | None) -> Any:
    """A value of a procedure's form as people read it (dates dd/mm/yyyy)."""
    return show_date(value) if (spec or {}).get("format") == "date" else value


@pass_context
def _history(context: Context, dossier: Any, point: Any, for_staff: bool) -> list[Any]:
    return history_lines(dossier, point.name, _language(context), for_staff=for_staff)


@pass_context
def _recorded(context: Context, text: str | None) -> str:
    return recorded(text, _language(context))


@pass_context
def _gettext(context: Context, msgid: str) -> Markup:
    # Escaped: a translation is text, never markup. Jinja then fills in the keyword
    # arguments (escaping them too).
    return escape(catalogue(_language(context)).gettext(msgid))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> Markup:
    return escape(catalogue(_language(context)).ngettext(singular, plural, n))


@pass_context
def _translate(context: Context, text: str | None) -> str:
    return translate(text, _language(context)) if text else ""


@pass_context
def _label(context: Context, value: str) -> str:
    return translate(VALUE_LABELS.get(value, value), _language(context))


@pass_context
def _city_status_label(context: Context, code: int | None) -> str:
    return translate(CITY_STATUS_LABELS[CityStatus(code)], _language(context)) if code else ""


@pass_context
def _state_label(context: Context, state: DossierState | str) -> str:
    return translate(STATE_LABELS[DossierState(state)], _language(context))


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        vnd=_vnd,
        local_time=_local_time,
        form_value=_form_value,
        masked=_masked,
        city_status=_city_status_label,
        state_label=_state_label,
        label=_label,
        translate=_translate,
        day=show_date,
    )
    env.tests["overdue"] = is_overdue  # {% if dossier is overdue %}: past the city's due date, not finished
    env.globals["CityStatus"] = CityStatus
    env.globals["can"] = policy.can  # who may do what: the same policy the services and guards use
    env.globals["history_lines"] = _history
    env.globals["recorded"] = _recorded
    env.globals["MIN_PASSWORD_LENGTH"] = MIN_PASSWORD_LENGTH
    env.globals["language"] = pass_context(_language)


template_config = TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_configure)


def render_text(engine: Any, name: str, **context: Any) -> str:
    """A template rendered to a string outside a response (the receipt's PDF), in Vietnamese."""
    return str(engine.get_template(name).render(**context))


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


class StaticFiles(BaseLocalFileSystem):
    """The file system behind /static: a name no file can have is a file that does not exist (404).

    Litestar's own turns the operating system's refusals into 500s: a name longer
    than the file system allows (ENAMETOOLONG), or one that decodes to a NUL byte
    (`/static/%2500` arrives here as `\\x00`; `os.stat` raises ValueError).
    """

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except FileNotFoundError:
            raise
        except (ValueError, OSError) as exc:
            if isinstance(exc, PermissionError):
                raise
            raise FileNotFoundError(str(path)[:200]) from exc
