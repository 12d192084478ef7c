"""HTTP client for the city's one-stop system (contract: docs/city-api.md).

Authenticates with OAuth2 client credentials (token cached until shortly
before it expires, renewed once on a 401). Failures are classified once here:
network errors, 5xx and 429 are retryable `ExternalServiceError`s; other 4xx
are final (`retryable=False`) with the city's reason. Their messages are what
staff read in a dossier's history (Vietnamese; pages translate them through
portal/history.py, which knows these wordings), so the technical cause of a
network error goes to the log instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from agents.city.wire import CityUpdate
from portal.core.errors import ExternalServiceError
from portal.core.http import make_http_client
from portal.core.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CityReceipt:
    """The city system's answer to a submitted dossier."""

    city_dossier_code: str
    status: int
    received_at: datetime
    due_at: datetime | None


class CityStateConflict(ExternalServiceError):
    """The city refused an operation in the dossier's current status (409 invalid_state); `status` is that status."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message, retryable=False)
        self.status = status


def _parse_time(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


class CityClient:
    def __init__(self, settings: Settings | None = None, http: httpx.Client | None = None) -> None:
        self.settings = settings or get_settings()
        self.http = http or make_http_client(
            self.settings.city.api_url, timeout_seconds=self.settings.city.timeout_seconds
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # -- transport -------------------------------------------------------
    def _fetch_token(self) -> str:
        response = self._send(
            "POST",
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.settings.city.client_id, self.settings.city.client_secret),
        )
        body = response.json()
        self._token = body["access_token"]
        self._token_expires = time.monotonic() + float(body.get("expires_in", 300)) - 30
        return self._token

    def _bearer(self, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._token_expires:
                return self._fetch_token()
            return self._token

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("city system unreachable (%s %s): %s: %s", method, url, type(exc).__name__, exc)
            raise ExternalServiceError("Không kết nối được tới hệ thống một cửa", retryable=True) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ExternalServiceError(
                f"Hệ thống một cửa tạm thời không xử lý được yêu cầu (mã lỗi {response.status_code})",
                retryable=True,
                retry_after=_retry_after(response),
            )
        if response.status_code == 409 and (state := self._invalid_state(response)) is not False:
            raise CityStateConflict(self._reason(response), state)
        if response.status_code >= 400 and response.status_code != 401:
            raise ExternalServiceError(self._reason(response), retryable=False)
        if response.status_code == 401 and url == "/oauth/token":
            raise ExternalServiceError(
                "Hệ thống một cửa không chấp nhận thông tin xác thực của cổng (mã lỗi 401)", retryable=False
            )
        return response

    @staticmethod
    def _invalid_state(response: httpx.Response) -> int | bool | None:
        """The city's current status from a 409 invalid_state (None when it did not say); False for another 409."""
        try:
            body = response.json()
        except ValueError:
            return False
        if not isinstance(body, dict) or body.get("error") != "invalid_state":
            return False
        status = body.get("TrangThaiHoSo")
        return int(status) if isinstance(status, int) else None

    @staticmethod
    def _reason(response: httpx.Response) -> str:
        try:
            body = response.json()
            message = body.get("message") or body.get("error") or response.text
            field = body.get("field")
        except (ValueError, AttributeError):  # not JSON, or not an object
            message, field = response.text[:300], None
        # The city's own words, quoted as they came, then the code (and field) in ours.
        if field:
            return f"“{message}” (mã lỗi {response.status_code}, trường {field})"
        return f"“{message}” (mã lỗi {response.status_code})"

    def _api(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        headers["Authorization"] = f"Bearer {self._bearer()}"
        response = self._send(method, url, headers=headers, **kwargs)
        if response.status_code == 401:  # token revoked or expired early: renew once
            headers["Authorization"] = f"Bearer {self._bearer(renew=True)}"
            response = self._send(method, url, headers=headers, **kwargs)
            if response.status_code == 401:
                raise ExternalServiceError(
                    "Hệ thống một cửa không chấp nhận mã truy cập của cổng (mã lỗi 401)", retryable=True
                )
        return response

    # -- operations ------------------------------------------------------
    def submit_dossier(self, payload: dict[str, Any], *, idempotency_key: str) -> CityReceipt:
        """DongBoHoSoMC: file a dossier. Safe to repeat with the same key."""
        body = self._api("POST", "/api/v1/dossiers", json=payload, headers={"Idempotency-Key": idempotency_key}).json()
        received = _parse_time(body.get("NgayTiepNhan"))
        return CityReceipt(
            city_dossier_code=body["MaHoSo"],
            status=int(body["TrangThaiHoSo"]),
            received_at=received or datetime.now().astimezone(),
            due_at=_parse_time(body.get("NgayHenTra")),
        )

    def dossier_history(self, city_dossier_code: str) -> list[CityUpdate]:
        """TraCuuHoSo: the dossier's status history, oldest first, as status reports."""
        body = self._api("GET", f"/api/v1/dossiers/{city_dossier_code}").json()
        return [
            CityUpdate(
                event_id=entry["event_id"],
                seq=int(entry["seq"]),
                status=int(entry["TrangThaiHoSo"]),
                occurred_at=datetime.fromisoformat(entry["ThoiGian"]),
                note=entry.get("GhiChu", ""),
                city_dossier_code=city_dossier_code,
            )
            for entry in body.get("LichSu", [])
        ]

    def supplement(self, city_dossier_code: str, note: str) -> int:
        """The documents asked for in status 5 were supplied; the city's status after it (4)."""
        body = self._api("POST", f"/api/v1/dossiers/{city_dossier_code}/supplement", json={"GhiChu": note}).json()
        return int(body["TrangThaiHoSo"])

    def withdraw(self, city_dossier_code: str, reason: str) -> int:
        """The citizen withdraws the dossier; the city's status after it (7)."""
        body = self._api("POST", f"/api/v1/dossiers/{city_dossier_code}/withdraw", json={"LyDo": reason}).json()
        return int(body["TrangThaiHoSo"])

    def list_procedures(self) -> list[dict[str, Any]]:
        """LayDanhSachTTHC: the city's procedure catalogue."""
        return list(self._api("GET", "/api/v1/procedures").json()["items"])


_client: CityClient | None = None


def city_client() -> CityClient:
    """The process's client (one connection pool and token per worker process)."""
    global _client
    if _client is None:
        _client = CityClient()
    return _client
