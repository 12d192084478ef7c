"""In-memory state and behaviour of the simulated city one-stop system."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .callbacks import CallbackDispatcher
from .catalogue import BY_CODE, Procedure
from .clock import add_working_days, iso, now_vn
from .config import SimConfig

log = logging.getLogger("citysim")

# DVCQG TrangThaiHoSo codes.
NEW = 1  # Mới đăng ký
RECEIVED = 2  # Được tiếp nhận
REFUSED = 3  # Không được tiếp nhận
PROCESSING = 4  # Đang xử lý
SUPPLEMENT = 5  # Yêu cầu bổ sung giấy tờ
FINANCIAL = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
WITHDRAWN = 7  # Công dân yêu cầu rút hồ sơ
STOPPED = 8  # Dừng xử lý
PROCESSED = 9  # Đã xử lý xong
RETURNED = 10  # Đã trả kết quả

STATUS_NAMES = {
    NEW: "Mới đăng ký",
    RECEIVED: "Được tiếp nhận",
    REFUSED: "Không được tiếp nhận",
    PROCESSING: "Đang xử lý",
    SUPPLEMENT: "Yêu cầu bổ sung giấy tờ",
    FINANCIAL: "Yêu cầu thực hiện nghĩa vụ tài chính",
    WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
    STOPPED: "Dừng xử lý",
    PROCESSED: "Đã xử lý xong",
    RETURNED: "Đã trả kết quả",
}

TERMINAL = frozenset({REFUSED, WITHDRAWN, STOPPED, RETURNED})
WITHDRAWABLE = frozenset({NEW, RECEIVED, PROCESSING, SUPPLEMENT})
#: Statuses waiting for the citizen; with automatic progress they resume after this many steps.
WAITING_STEPS = {SUPPLEMENT: 3, FINANCIAL: 3}

DEFAULT_NOTES = {
    NEW: "Hồ sơ mới đăng ký, chờ cán bộ tiếp nhận",
    RECEIVED: "Hồ sơ đã được tiếp nhận",
    REFUSED: "Hồ sơ không được tiếp nhận: thành phần hồ sơ không đầy đủ, không hợp lệ",
    PROCESSING: "Hồ sơ đang được xử lý",
    SUPPLEMENT: "Đề nghị công dân bổ sung giấy tờ: bản sao giấy tờ chứng minh chỗ ở hợp pháp",
    FINANCIAL: "Đề nghị công dân thực hiện nghĩa vụ tài chính (nộp phí, lệ phí)",
    WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
    STOPPED: "Dừng xử lý hồ sơ",
    PROCESSED: "Hồ sơ đã xử lý xong, chờ trả kết quả",
    RETURNED: "Đã trả kết quả cho công dân",
}
RESUMED_NOTE = "Công dân đã bổ sung giấy tờ, hồ sơ tiếp tục được xử lý"
PAID_NOTE = "Công dân đã thực hiện nghĩa vụ tài chính, hồ sơ tiếp tục được xử lý"

#: Agency part of the dossier code (Hanoi one-stop unit).
AGENCY_CODE = "H01.22"


class SimError(Exception):
    """A domain error that maps to an HTTP error answer."""

    def __init__(self, status_code: int, error: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or error)
        self.status_code = status_code
        self.body: dict[str, Any] = {"error": error}
        if message:
            self.body["message"] = message
        self.body.update(extra)


@dataclass
class HistoryEntry:
    seq: int
    event_id: str
    status: int
    at: datetime
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "TrangThaiHoSo": self.status,
            "ThoiGian": iso(self.at),
            "GhiChu": self.note,
        }


@dataclass
class Dossier:
    ma_ho_so: str
    client_id: str
    procedure: Procedure
    data: dict[str, Any]
    received_at: datetime
    due_at: datetime
    callback_url: str | None
    status: int = NEW
    returned_at: datetime | None = None
    supplement_requested: bool = False
    history: list[HistoryEntry] = field(default_factory=list)
    #: The X-Request-ID header the submission came with (None without one), so tests can
    #: follow a request id from the portal into this system.
    request_id: str | None = None
    #: time.monotonic() of the last status change (drives automatic progress).
    changed_mono: float = field(default_factory=time.monotonic)

    @property
    def partner_code(self) -> str:
        return self.data["MaHoSoDoiTac"]

    def as_lookup(self) -> dict[str, Any]:
        """TraCuuHoSo answer."""
        return {
            "MaHoSo": self.ma_ho_so,
            "MaHoSoDoiTac": self.partner_code,
            "MaTTHC": self.procedure.code,
            "TenTTHC": self.data.get("TenTTHC") or self.procedure.name,
            "ChuHoSo": self.data.get("ChuHoSo"),
            "DonViTiepNhan": self.data.get("DonViTiepNhan"),
            "TrangThaiHoSo": self.status,
            "TenTrangThaiHoSo": STATUS_NAMES[self.status],
            "NgayTiepNhan": iso(self.received_at),
            "NgayHenTra": iso(self.due_at),
            "NgayTra": iso(self.returned_at) if self.returned_at else None,
            "LichSu": [entry.as_dict() for entry in self.history],
        }

    def as_debug(self) -> dict[str, Any]:
        view = self.as_lookup()
        view.update(
            client_id=self.client_id,
            callback_url=self.callback_url,
            supplement_requested=self.supplement_requested,
            request_id=self.request_id,
            data=self.data,
        )
        return view


@dataclass
class IdempotencyRecord:
    fingerprint: str
    status_code: int
    body: dict[str, Any]


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Simulator:
    """Dossiers, tokens, idempotency records, automatic progress and callbacks."""

    def __init__(self, config: SimConfig) -> None:
        config.validate()
        self.initial_config = config.copy()
        if self.initial_config.seed is None:
            self.initial_config.seed = secrets.randbelow(2**31)
        self.config = self.initial_config.copy()
        self.callbacks = CallbackDispatcher(lambda: self.config)
        # Dossier codes stay unique for the life of the process (also across
        # /_sim/reset); the start point is arbitrary so that codes from an
        # earlier run are unlikely to come back after a restart.
        self._next_number = secrets.randbelow(500_000) + 1
        self._ticker: asyncio.Task[None] | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        seed = self.config.seed
        self.decisions = random.Random(seed)  # refuse / supplement decisions
        self.faults = random.Random(f"faults-{seed}")  # injected 503s
        self.dossiers: dict[str, Dossier] = {}
        self.by_partner_code: dict[tuple[str, str], str] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.tokens: dict[str, tuple[str, float]] = {}

    # -- life cycle -----------------------------------------------------------

    async def start(self) -> None:
        await self.callbacks.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever(), name="citysim-ticker")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.callbacks.stop()

    async def reset(self) -> None:
        """Forget dossiers, idempotency records and callbacks; restore the start-up knobs.

        Access tokens survive so that a running client keeps working.
        """
        tokens = self.tokens
        await self.callbacks.clear()
        self.config = self.initial_config.copy()
        self._reset_state()
        self.tokens = tokens

    # -- OAuth2 tokens ----------------------------------------------------------

    def issue_token(self, client_id: str) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        ttl = self.config.token_ttl
        self.tokens[token] = (client_id, time.monotonic() + ttl)
        return token, ttl

    def client_for_token(self, token: str) -> str | None:
        entry = self.tokens.get(token)
        if entry is None:
            return None
        client_id, expires = entry
        if time.monotonic() >= expires:
            self.tokens.pop(token, None)
            return None
        return client_id

    def expire_tokens(self, token: str | None = None) -> int:
        """Make one token (or all) expire now; returns how many were affected."""
        targets = [token] if token is not None else list(self.tokens)
        count = 0
        for item in targets:
            if item in self.tokens:
                self.tokens[item] = (self.tokens[item][0], time.monotonic())
                count += 1
        return count

    def _purge_tokens(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, expires) in self.tokens.items() if expires <= now]:
            self.tokens.pop(token, None)

    # -- fault injection ----------------------------------------------------------

    def draw_fault(self, rate: float) -> bool:
        return rate > 0 and self.faults.random() < rate

    # -- dossiers -----------------------------------------------------------------

    def lookup_replay(self, client_id: str, key: str, payload: Any) -> IdempotencyRecord | None:
        """The stored answer for this Idempotency-Key, or ``None`` for a new key.

        Raises a 409 when the key was used with a different body.
        """
        record = self.idempotency.get((client_id, key))
        if record is None:
            return None
        if record.fingerprint != fingerprint(payload):
            raise SimError(
                409,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body",
            )
        return record

    def create_dossier(
        self, client_id: str, key: str, payload: Any, cleaned: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]:
        """Create a dossier from a validated body and remember the answer under the key."""
        partner_code = cleaned["MaHoSoDoiTac"]
        existing = self.by_partner_code.get((client_id, partner_code))
        if existing is not None:
            raise SimError(
                409,
                "duplicate_partner_code",
                "a dossier with this MaHoSoDoiTac already exists",
                MaHoSo=existing,
            )
        procedure = BY_CODE[cleaned["MaTTHC"]]
        received = now_vn()
        number = self._next_number
        self._next_number = self._next_number % 999_999 + 1
        ma_ho_so = f"{AGENCY_CODE}-{received:%y%m%d}-{number:06d}"
        dossier = Dossier(
            ma_ho_so=ma_ho_so,
            client_id=client_id,
            procedure=procedure,
            data=cleaned,
            received_at=received,
            due_at=add_working_days(received, procedure.working_days),
            callback_url=cleaned.get("callback_url"),
            request_id=request_id,
        )
        self.dossiers[ma_ho_so] = dossier
        self.by_partner_code[(client_id, partner_code)] = ma_ho_so
        self._record(dossier, NEW, DEFAULT_NOTES[NEW], at=received)
        body = {
            "MaHoSo": ma_ho_so,
            "MaHoSoDoiTac": partner_code,
            "TrangThaiHoSo": NEW,
            "NgayTiepNhan": iso(dossier.received_at),
            "NgayHenTra": iso(dossier.due_at),
        }
        self.idempotency[(client_id, key)] = IdempotencyRecord(fingerprint(payload), 201, body)
        return body

    def get(self, ma_ho_so: str, client_id: str | None = None) -> Dossier:
        """The dossier, if it exists and (when ``client_id`` is given) belongs to that client."""
        dossier = self.dossiers.get(ma_ho_so)
        if dossier is None or (client_id is not None and dossier.client_id != client_id):
            raise SimError(404, "not_found", "no such dossier")
        return dossier

    def get_by_partner_code(self, client_id: str, partner_code: str) -> Dossier:
        ma_ho_so = self.by_partner_code.get((client_id, partner_code))
        if ma_ho_so is None:
            raise SimError(404, "not_found", "no dossier with this MaHoSoDoiTac")
        return self.dossiers[ma_ho_so]

    # -- status changes -------------------------------------------------------------

    def _record(self, dossier: Dossier, status: int, note: str, at: datetime | None = None) -> HistoryEntry:
        """Apply a status, append it to the history and queue its callback."""
        moment = at or now_vn()
        entry = HistoryEntry(
            seq=len(dossier.history) + 1, event_id=str(uuid.uuid4()), status=status, at=moment, note=note
        )
        dossier.history.append(entry)
        dossier.status = status
        dossier.changed_mono = time.monotonic()
        if status == SUPPLEMENT:
            dossier.supplement_requested = True
        if status == RETURNED:
            dossier.returned_at = moment
        if dossier.callback_url:
            event = {
                "event_id": entry.event_id,
                "seq": entry.seq,
                "MaHoSo": dossier.ma_ho_so,
                "MaHoSoDoiTac": dossier.partner_code,
                "TrangThaiHoSo": status,
                "ThoiGian": iso(moment),
                "GhiChu": note,
            }
            self.callbacks.enqueue(dossier.ma_ho_so, dossier.callback_url, event)
        log.info("%s -> %d (%s)", dossier.ma_ho_so, status, STATUS_NAMES[status])
        return entry

    def _next_step(self, dossier: Dossier) -> tuple[int, str]:
        status = dossier.status
        if status == NEW:
            if self.decisions.random() < self.config.refuse_rate:
                return REFUSED, DEFAULT_NOTES[REFUSED]
            return RECEIVED, DEFAULT_NOTES[RECEIVED]
        if status == RECEIVED:
            return PROCESSING, DEFAULT_NOTES[PROCESSING]
        if status == PROCESSING:
            if not dossier.supplement_requested and self.decisions.random() < self.config.supplement_rate:
                return SUPPLEMENT, DEFAULT_NOTES[SUPPLEMENT]
            return PROCESSED, DEFAULT_NOTES[PROCESSED]
        if status == SUPPLEMENT:
            return PROCESSING, RESUMED_NOTE
        if status == FINANCIAL:
            return PROCESSING, PAID_NOTE
        if status == PROCESSED:
            return RETURNED, DEFAULT_NOTES[RETURNED]
        raise SimError(409, "invalid_state", f"dossier is in terminal status {status}", TrangThaiHoSo=status)

    def advance(self, dossier: Dossier) -> int:
        """Perform the next automatic step now; returns the new status."""
        status, note = self._next_step(dossier)
        self._record(dossier, status, note)
        return status

    def force_status(self, dossier: Dossier, status: int, note: str | None) -> None:
        """Set any status (1..10) without checking the transition; always emits an event."""
        self._record(dossier, status, note or DEFAULT_NOTES[status])

    def supplement(self, dossier: Dossier, note: str | None) -> None:
        if dossier.status != SUPPLEMENT:
            raise SimError(
                409,
                "invalid_state",
                "additional documents can only be supplied in status 5",
                TrangThaiHoSo=dossier.status,
            )
        self._record(dossier, PROCESSING, note or RESUMED_NOTE)

    def withdraw(self, dossier: Dossier, note: str | None) -> None:
        if dossier.status not in WITHDRAWABLE:
            raise SimError(
                409,
                "invalid_state",
                "a dossier can only be withdrawn in status 1, 2, 4 or 5",
                TrangThaiHoSo=dossier.status,
            )
        self._record(dossier, WITHDRAWN, note or DEFAULT_NOTES[WITHDRAWN])

    # -- automatic progress ---------------------------------------------------------

    def tick(self) -> None:
        """Advance every dossier whose step is due (one step per dossier per call)."""
        step = self.config.step_seconds
        if step <= 0:
            return
        now = time.monotonic()
        for dossier in list(self.dossiers.values()):
            if dossier.status in TERMINAL:
                continue
            wait = step * WAITING_STEPS.get(dossier.status, 1)
            if now - dossier.changed_mono >= wait:
                self.advance(dossier)

    async def _tick_forever(self) -> None:
        purge_at = time.monotonic() + 60
        while True:
            try:
                self.tick()
                if time.monotonic() >= purge_at:
                    self._purge_tokens()
                    purge_at = time.monotonic() + 60
            except Exception:  # keep the single ticker alive whatever happens
                log.exception("automatic progress failed")
            step = self.config.step_seconds
            await asyncio.sleep(min(0.5, max(0.02, step / 10)) if step > 0 else 0.25)
