"""Benchmark: filing dossiers over HTTP through the partner API, against a floor in the same run.

    ./run bench filing_http [--seconds 10] [--rounds 3] [--workers N] [--concurrency 1,10,50]

On a scratch PostgreSQL database reached by the app role (RLS on), with the Redis broker:

  ours   `portal serve --workers N` (N = the machine's cores unless told), POST /api/v1/dossiers with a
         bearer token (client credentials), a fresh idempotency key per request: validation, AES-GCM,
         history, the hash-chained audit entry, commit, then the forwarding task enqueued on Redis.
  floor  a bare Litestar app (bench/floor_app.py) served the same way, inserting one row of similar
         width through the same driver and pool.

One load generator (wrk, Debian's package, with a Lua body per request) drives both, interleaved
round by round; each line prints throughput, p50 and p95, and the ratio ours/floor. Every answer
must be 201 (a wrong answer is counted and reported, never timed as a success). Results and the
machine's load go into docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import Server, free_port, load_average, portal_env, run_wrk  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402


def _seed() -> tuple[str, str, str]:
    """A partner with a point and an API client of that point. Returns (point id, client id, secret)."""
    from agents.api_clients import service as api_clients
    from agents.staff.models import Role
    from portal.core.db import unit_of_work
    from portal.core.migrations import upgrade_database
    from tests.factories import create_partner, create_person, create_point, ensure_procedures

    upgrade_database()
    ensure_procedures()
    partner = create_partner(name="Bưu điện (benchmark)")
    point = create_point(partner, name="Điểm benchmark")
    manager = create_person((Role.partner_manager, partner, None), name="Quản lý benchmark")
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        client, secret = api_clients.register_client(
            session, manager, name="benchmark", scopes=["dossiers:write", "dossiers:read"], agent_point_id=point.id
        )
        client_id = client.client_id
    return str(point.id), client_id, secret


def _filing_body(point_id: str) -> str:
    from tests.factories import BIRTH_FORM, citizen

    return json.dumps(
        {
            "procedure_code": "1.001193",
            "agent_point_id": point_id,
            "idempotency_key": "@KEY@",
            "citizen": citizen(),
            "form": dict(BIRTH_FORM),
        },
        ensure_ascii=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", default="1,10,50")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk; ./run bench installs it)")

    work = Path(tempfile.mkdtemp(prefix="portal-bench-http-"))
    with scratch_database() as database:
        env = portal_env(work, database, broker="redis://127.0.0.1:6379/9")
        os.environ.update(env)
        point_id, client_id, secret = _seed()
        from bench.floor_app import prepare

        prepare(database["DATABASE_MIGRATION_URL"], grant_to=database["DATABASE_URL"])

        ours_port, floor_port = free_port(), free_port()
        ours = Server.portal(ours_port, args.workers, env, work / "portal.log")
        floor = Server.floor(
            floor_port, args.workers, env | {"BENCH_FLOOR_DATABASE_URL": database["DATABASE_URL"]}, work / "floor.log"
        )
        with ours, floor:
            import httpx

            token = httpx.post(
                f"{ours.url}/api/oauth/token",
                data={"grant_type": "client_credentials", "scope": "dossiers:write dossiers:read"},
                auth=(client_id, secret),
                headers={"Host": ours.host},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            body = _filing_body(point_id)
            print(f"machine: {os.cpu_count()} cores, load before {load_average()}; {args.workers} web processes each")
            for connections in [int(c) for c in args.concurrency.split(",")]:
                results: dict[str, list[dict[str, float]]] = {"ours": [], "floor": []}
                for _ in range(args.rounds):
                    for name, server, path in (("ours", ours, "/api/v1/dossiers"), ("floor", floor, "/floor/file")):
                        assert server.process is not None
                        results[name].append(
                            run_wrk(
                                server.url + path,
                                body,
                                headers,
                                connections=connections,
                                seconds=args.seconds,
                                expect=201,
                                work=work,
                                server_pid=server.process.pid,
                            )
                        )
                _report(f"file, {connections} concurrent", results)
            print(f"load after: {load_average()}")
    shutil.rmtree(work, ignore_errors=True)


def _report(label: str, results: dict[str, list[dict[str, float]]]) -> None:
    def summary(rounds: list[dict[str, float]]) -> dict[str, float]:
        return {
            "rate": statistics.median(r["rate"] for r in rounds),
            "p50": statistics.median(r["p50_ms"] for r in rounds),
            "p95": statistics.median(r["p95_ms"] for r in rounds),
            "wrong": sum(r["wrong"] for r in rounds),
            "cpu": statistics.median(r["cpu_ms"] for r in rounds),
        }

    ours, floor = summary(results["ours"]), summary(results["floor"])
    print(
        f"{label:28} ours {ours['rate']:7.1f}/s p50 {ours['p50']:7.1f} ms p95 {ours['p95']:7.1f} ms"
        f" | floor {floor['rate']:7.1f}/s p50 {floor['p50']:6.1f} ms p95 {floor['p95']:6.1f} ms"
        f" | ratio {ours['rate'] / floor['rate']:.2f}, p95 x{ours['p95'] / floor['p95']:.1f}"
        f" | server CPU per request: ours {ours['cpu']:.1f} ms, floor {floor['cpu']:.1f} ms"
        f" | wrong answers: ours {ours['wrong']:.0f}, floor {floor['wrong']:.0f}"
    )


if __name__ == "__main__":
    main()
