"""The floor for the HTTP benchmarks: a bare Litestar app doing the least a request of that kind can do.

    POST /floor/file      inserts one row of a width like a dossier's (JSON body in, JSON out)
    POST /floor/callback  one indexed UPDATE (the floor of a city status callback)

Same driver (psycopg 3), same SQLAlchemy pool settings and same server (`portal serve`'s way of
running processes) as the portal, so the ratio measures what the portal adds, not the stack.
Run as `uvicorn --factory bench.floor_app:create_app` with BENCH_FLOOR_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from litestar import Litestar, post
from sqlalchemy import create_engine, text

TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor (
    id uuid PRIMARY KEY,
    idempotency_key varchar(80) UNIQUE NOT NULL,
    procedure_code varchar(40) NOT NULL,
    agent_point_id uuid NOT NULL,
    citizen_name varchar(200) NOT NULL,
    citizen_id_number bytea NOT NULL,
    citizen_phone bytea NOT NULL,
    form jsonb NOT NULL,
    state varchar(30) NOT NULL,
    city_status int,
    filed_at timestamptz NOT NULL DEFAULT now()
)
"""


def create_app() -> Litestar:
    url = os.environ["BENCH_FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

    @post("/floor/file", sync_to_thread=True, status_code=201)
    def file(data: dict[str, Any]) -> dict[str, Any]:
        row_id = uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO bench_floor (id, idempotency_key, procedure_code, agent_point_id, citizen_name,"
                    " citizen_id_number, citizen_phone, form, state) VALUES (:id, :key, :code, :point, :name,"
                    " :idn, :phone, CAST(:form AS jsonb), 'submitted')"
                ),
                {
                    "id": row_id,
                    "key": data["idempotency_key"],
                    "code": data["procedure_code"],
                    "point": data["agent_point_id"],
                    "name": data["citizen"]["owner_full_name"],
                    "idn": data["citizen"]["owner_id_number"].encode(),
                    "phone": data["citizen"]["owner_phone"].encode(),
                    "form": json.dumps(data["form"]),
                },
            )
        return {"id": str(row_id), "state": "submitted"}

    @post("/floor/callback", sync_to_thread=True, status_code=200)
    def callback(data: dict[str, Any]) -> dict[str, str]:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE bench_floor SET city_status = :status WHERE idempotency_key = :key"),
                {"status": data["status"], "key": data["key"]},
            )
        return {"result": "ok"}

    return Litestar([file, callback], openapi_config=None)


def prepare(url: str, *, grant_to: str) -> None:
    """Create the floor's table as the owner and let the app role (the user of `grant_to`) use it."""
    from sqlalchemy.engine import make_url

    role = make_url(grant_to).username
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(TABLE))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE ON bench_floor TO {role}"))
    engine.dispose()
