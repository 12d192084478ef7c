"""Benchmark: VNPay IPN handling over HTTP, against a floor measured in the same run (run by hand).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ipn.py [--payments 200] [--threads 8]

Three loads on the portal served by uvicorn (one process) on a scratch PostgreSQL database:
  duplicates  `--threads` concurrent copies of the same IPN, for each of `--payments // 10` payments
  distinct    one IPN for each of `--payments` payments, `--threads` at a time
  floor       a bare Litestar endpoint doing one indexed UPDATE of the payments table, same load as distinct
The IPNs are signed by the simulator's checksum code, as VNPay's server would sign them.
Results go to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _scratch_database() -> str | None:
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    scratch = f"portal_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname='portal_app_bench'")).scalar():
            conn.execute(text("CREATE ROLE portal_app_bench LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    os.environ["DATABASE_MIGRATION_URL"] = admin.set(database=scratch).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = admin.set(database=scratch, username="portal_app_bench").render_as_string(
        hide_password=False
    )
    return admin.render_as_string(hide_password=False) + "#" + scratch


def _drop(marker: str | None) -> None:
    if not marker:
        return
    from sqlalchemy import create_engine, text

    admin, scratch = marker.split("#")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    engine.dispose()


def _measure(name: str, calls: list[Callable[[], str]], threads: int) -> dict[str, object]:
    latencies: list[float] = []
    codes: dict[str, int] = {}
    lock = threading.Lock()

    def run(call: Callable[[], str]) -> None:
        started = time.perf_counter()
        code = call()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            codes[code] = codes.get(code, 0) + 1

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, calls))
    total = time.perf_counter() - began
    latencies.sort()
    return {
        "load": name,
        "requests": len(calls),
        "per_second": round(len(calls) / total, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "codes": codes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.setdefault("PORTAL_ENV", "test")
    marker = _scratch_database()
    try:
        _run(args.payments, args.threads)
    finally:
        from portal.core.db import get_engine

        get_engine().dispose()
        _drop(marker)


def _run(count: int, threads: int) -> None:
    import httpx
    from litestar import Litestar, get
    from sqlalchemy import text

    from payments import checkout
    from payments.gateways import vnpay_client, vnpay_return_url
    from portal.app import create_app
    from portal.core.db import get_engine, unit_of_work
    from portal.core.migrations import upgrade_database
    from portal.core.settings import get_settings
    from portal.core.tenancy import Scope
    from simulators.vnpay.checksum import signed_query
    from tests.factories import create_counter
    from tests.payments.conftest import file_residence
    from tests.servers import serve_in_thread

    upgrade_database()
    settings = get_settings()
    _, point, staff = create_counter()
    payments = []
    with vnpay_client() as client:
        for _ in range(count + count // 10):
            dossier = file_residence(staff, point)
            with unit_of_work(Scope.partner(dossier.partner_id, actor_label="bench")) as session:
                payments.append(
                    checkout.start_payment(
                        session,
                        dossier.id,
                        started_by="bench",
                        client=client,
                        return_url=vnpay_return_url(),
                        ip_addr="10.0.0.1",
                    ).payment
                )
    engine = get_engine()

    def ipn_query(payment) -> str:  # type: ignore[no-untyped-def]
        return signed_query(
            settings.vnpay.hash_secret,
            {
                "vnp_Amount": str(payment.amount_vnd * 100),
                "vnp_BankCode": "NCB",
                "vnp_CardType": "ATM",
                "vnp_OrderInfo": "Le phi",
                "vnp_PayDate": "20261202100000",
                "vnp_ResponseCode": "00",
                "vnp_TmnCode": settings.vnpay.tmn_code,
                "vnp_TransactionNo": "12345678",
                "vnp_TransactionStatus": "00",
                "vnp_TxnRef": payment.txn_ref,
            },
        )

    @get("/floor", sync_to_thread=True)
    def floor(ref: str) -> dict[str, str]:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.all_partners', 'on', true)"))
            conn.execute(text("UPDATE payments SET last_checked_at = now() WHERE txn_ref = :r"), {"r": ref})
        return {"RspCode": "00", "Message": "Confirm Success"}

    floor_app = Litestar([floor])
    results = []
    with (
        serve_in_thread(lambda _b: create_app()) as (portal_url, _),
        serve_in_thread(lambda _b: floor_app) as (floor_url, _),
        httpx.Client(timeout=60, limits=httpx.Limits(max_connections=threads * 2)) as http,
    ):

        def ipn(payment) -> Callable[[], str]:  # type: ignore[no-untyped-def]
            url = f"{portal_url}/api/payments/vnpay/ipn?{ipn_query(payment)}"
            return lambda: http.get(url).json()["RspCode"]

        duplicated, distinct = payments[: count // 10], payments[count // 10 :]
        results.append(_measure("duplicates", [ipn(p) for p in duplicated for _ in range(threads)], threads))
        results.append(_measure("distinct", [ipn(p) for p in distinct], threads))
        results.append(
            _measure(
                "floor",
                [
                    (lambda r=p.txn_ref: http.get(f"{floor_url}/floor", params={"ref": r}).json()["RspCode"])
                    for p in distinct
                ],
                threads,
            )
        )
    database = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    print(f"{database}, {threads} threads")
    for r in results:
        print(r)


if __name__ == "__main__":
    main()
