"""The city's wire format: what we send (a dossier) and what it sends back (status reports).

Field names are the city's (DVCQG), see docs/city-api.md. Nothing here touches
the database or the network: `client.py` carries these over HTTP,
`callbacks.py` checks that a report really comes from the city.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.dossiers.models import Dossier
from agents.points.models import AgentPoint
from agents.procedures.models import ProcedureVersion
from portal.core.settings import get_settings


class MalformedReport(ValueError):
    """A status report that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class CityUpdate:
    """One status report of the city about one dossier (pushed by callback or read by a poll)."""

    event_id: str
    seq: int
    status: int
    occurred_at: datetime
    note: str = ""
    city_dossier_code: str | None = None
    tracking_code: str | None = None


def city_payload(dossier: Dossier, procedure: ProcedureVersion, point: AgentPoint) -> dict[str, Any]:
    settings = get_settings()
    payload: dict[str, Any] = {
        "MaHoSoDoiTac": dossier.tracking_code,
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field_code,
        "TenLinhVuc": procedure.field_name,
        "ChuHoSo": dossier.owner_full_name,
        "SoDinhDanh": dossier.owner_id_number,
        "NgaySinh": dossier.owner_birth_date.isoformat(),
        "SoDienThoai": dossier.owner_phone,
        "DiaChi": dossier.owner_address,
        "TrichYeuHoSo": f"{procedure.name} - {dossier.owner_full_name}",
        "HinhThuc": 2,
        "DuLieuBieuMau": dossier.form_data,
        "TaiLieuNop": [{"TenTaiLieu": document["name"]} for document in procedure.required_documents],
        "DonViTiepNhan": point.name,
        "callback_url": settings.city.callback_url,
    }
    if dossier.proxy_full_name:
        payload["NguoiNop"] = {
            "HoTen": dossier.proxy_full_name,
            "SoDinhDanh": dossier.proxy_id_number,
            "SoDienThoai": dossier.proxy_phone,
            "DiaChi": dossier.proxy_address,
            "GiayUyQuyen": dossier.proxy_authorisation,
        }
    return payload


def parse_status_report(body: bytes) -> CityUpdate:
    """A status callback's JSON body as a CityUpdate; MalformedReport when it is not one."""
    try:
        event = json.loads(body)
        report = CityUpdate(
            event_id=str(event["event_id"]),
            seq=int(event["seq"]),
            status=int(event["TrangThaiHoSo"]),
            occurred_at=datetime.fromisoformat(event["ThoiGian"]),
            note=str(event.get("GhiChu", "")),
            city_dossier_code=event.get("MaHoSo"),
            tracking_code=event.get("MaHoSoDoiTac"),
        )
        if report.occurred_at.tzinfo is None:
            raise ValueError("ThoiGian needs a UTC offset")
        if not 0 < len(report.event_id) <= 80:
            raise ValueError("event_id must be 1 to 80 characters")
        if not 0 <= report.seq < 2**31:
            raise ValueError("seq out of range")
        if not all(v is None or isinstance(v, str) for v in (report.city_dossier_code, report.tracking_code)):
            raise ValueError("MaHoSo and MaHoSoDoiTac must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedReport(str(exc)) from exc
    return report
