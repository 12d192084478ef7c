"""Jinja set-up: the template folder, translation, and display filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from agents import policy
from agents.dossiers.models import CityStatus, DossierState
from agents.dossiers.rules import CITY_STATUS_LABELS, STATE_LABELS
from portal.forms import show_date
from portal.history import history_lines, recorded
from portal.i18n import LANGUAGES, VALUE_LABELS, translate

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def language_of(request: Request[Any, Any, Any]) -> str:
    lang = request.cookies.get("lang", "vi")
    return lang if lang in LANGUAGES else "vi"


def _vnd(amount: int | None) -> str:
    return f"{amount or 0:,}".replace(",", ".") + " đ"


def _local_time(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def _form_value(value: Any, spec: dict[str, Any] | None) -> Any:
    """A value of a procedure's form as people read it (dates dd/mm/yyyy)."""
    return show_date(value) if (spec or {}).get("format") == "date" else value


def _city_status_label(code: int | None) -> str:
    return CITY_STATUS_LABELS[CityStatus(code)] if code else ""


def _state_label(state: DossierState | str) -> str:
    return STATE_LABELS[DossierState(state)]


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters.update(
        vnd=_vnd,
        local_time=_local_time,
        form_value=_form_value,
        city_status=_city_status_label,
        state_label=_state_label,
        label=lambda value: VALUE_LABELS.get(value, value),
    )
    env.globals["CityStatus"] = CityStatus
    env.globals["can"] = policy.can  # who may do what: the same policy the services and guards use

    def _language(context: dict[str, Any]) -> str:
        request = context.get("request")
        return language_of(request) if request is not None else "vi"

    def _(context: dict[str, Any], text: str) -> str:
        return translate(text, _language(context))

    def _history(context: dict[str, Any], dossier: Any, point: Any, for_staff: bool) -> list[Any]:
        return history_lines(dossier, point.name, _language(context), for_staff=for_staff)

    def _recorded(context: dict[str, Any], text: str | None) -> str:
        return recorded(text, _language(context))

    engine.register_template_callable("_", _)  # type: ignore[arg-type]
    engine.register_template_callable("history_lines", _history)  # type: ignore[arg-type]
    engine.register_template_callable("recorded", _recorded)  # type: ignore[arg-type]


template_config = TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_configure)


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)
